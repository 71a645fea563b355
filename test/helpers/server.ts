// Runs the real presenced daemon (bin/presenced) as a child process and its CLI (bin/presencestate) against it.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const STARTUP_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 8000;
const CLI_TIMEOUT_MS = 10000;
const LISTENING_LINE = /^presenced listening on (.*) with (\d+) hints?\s*$/;

export interface ServerOptions {
  /** extensions.conf to load, relative to the repo root; it is copied so a test may rewrite it. */
  config?: string;
  /** State directory to use; the caller owns it. Default: a fresh temp dir removed when the server stops. */
  dataDir?: string;
  /** `host:port` or `off`; default 127.0.0.1:0. */
  udp?: string;
  tcp?: string;
  context?: string;
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Default: pretty, the lines tests search with includes() and regular expressions; null gives no --log-format. */
  logFormat?: 'json' | 'pretty' | null;
  /** Further daemon options, appended as given (e.g. `['--t1', '100']`). */
  args?: string[];
  /** AMI users file (manager.conf format), relative to the repo root: turns AMI on, at 127.0.0.1 on a free port. */
  amiConfig?: string;
  /** A command that runs the daemon (its command line follows), e.g. one entering a mount namespace; it must exec it. */
  launcher?: string[];
  /** Leave out `--data` (the daemon finds its data directory itself; `dataDir` then says where the test expects it). */
  noDataFlag?: boolean;
  /** Leave out `--config` (the dialplan comes from presenced.conf or the defaults). */
  noConfigFlag?: boolean;
  /** Added to the daemon's environment (and the CLI's, through `cli`). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PresenceServer {
  /** 0 when the transport is off. */
  udpPort: number;
  tcpPort: number;
  /** 0 when AMI is off. */
  amiPort: number;
  /** 0 unless `--ws` / `--wss` are given. */
  wsPort: number;
  wssPort: number;
  /** 0 unless `--tls` is given. */
  tlsPort: number;
  /** 0 unless `--http` is given. */
  httpPort: number;
  /** Hint count from the listening line. */
  hints: number;
  dataDir: string;
  /** The server's own copy of the config, safe to rewrite before a SIGHUP. */
  configFile: string;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILLs after 8 s. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<ExitStatus>;
  /** Sends a signal without waiting (e.g. SIGHUP). */
  signal(signal: NodeJS.Signals): void;
  /** Runs `presencestate --data <dataDir> ...args`. */
  cli(args: string[]): Promise<CliResult>;
  /** Runs `devicestate --data <dataDir> ...args`. */
  devicestate(args: string[]): Promise<CliResult>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** The daemon's process id. */
  pid: number;
}

/**
 * The programs run with an empty presenced.conf unless a test names one, so a machine's
 * /etc/presenced/presenced.conf or $PRESENCED_CONF never changes what a test starts.
 */
const ISOLATED_ENV: NodeJS.ProcessEnv = { PRESENCED_CONF: '/dev/null', PRESENCED_DATA: '' };

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function repoPath(...parts: string[]): string {
  return path.resolve(process.cwd(), ...parts);
}

export function makeTempDir(prefix = 'presenced-itest-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * A port on 127.0.0.1 that is free for both UDP and TCP right now, for a server that must come back on the same
 * address after a restart (pass it as `udp` and `tcp`).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = tcp.address() as net.AddressInfo;
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    const udp = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (bound) return port;
  }
}

/** Runs the CLI against any state directory (also one with no daemon behind it). */
export function runCli(dataDir: string, args: string[], options: RunOptions = {}, program: 'presencestate' | 'devicestate' = 'presencestate'): Promise<CliResult> {
  return runProgram(program, ['--data', dataDir, ...args], options);
}

/** Runs bin/<program> to its end (a daemon that starts is killed after the timeout, which fails the run). */
export function runProgram(program: 'presenced' | 'presencestate' | 'devicestate', args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', program), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...ISOLATED_ENV, ...options.env },
      cwd: options.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} ${args.join(' ')} did not finish in ${CLI_TIMEOUT_MS} ms\n${stdout}${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How many rows of `presencestate subscriptions` name the watcher `sip:<watcherUser>@…`. */
export async function listedSubscriptions(server: PresenceServer, watcherUser: string): Promise<number> {
  const listing = await server.cli(['subscriptions']);
  if (listing.code !== 0) throw new Error(`presencestate subscriptions failed: ${listing.stderr}`);
  return listing.stdout.split('\n').filter((row) => row.includes(`sip:${watcherUser}@`)).length;
}

function serverArguments(options: ServerOptions, configFile: string, dataDir: string): string[] {
  const args = [
    repoPath('bin', 'presenced'),
    ...(options.noConfigFlag ? [] : ['--config', configFile]),
    '--udp', options.udp ?? '127.0.0.1:0',
    '--tcp', options.tcp ?? '127.0.0.1:0',
    ...(options.noDataFlag ? [] : ['--data', dataDir]),
    '--log-level', options.logLevel ?? 'warn',
    ...(options.logFormat === null ? [] : ['--log-format', options.logFormat ?? 'pretty']),
  ];
  if (options.context !== undefined) args.push('--context', options.context);
  if (options.minExpires !== undefined) args.push('--min-expires', String(options.minExpires));
  if (options.maxExpires !== undefined) args.push('--max-expires', String(options.maxExpires));
  if (options.defaultExpires !== undefined) args.push('--default-expires', String(options.defaultExpires));
  if (options.amiConfig !== undefined) args.push('--ami', '127.0.0.1:0', '--ami-config', repoPath(options.amiConfig));
  args.push(...(options.args ?? []));
  return args;
}

/** `udp:127.0.0.1:41234 tcp:127.0.0.1:41235 ami:127.0.0.1:41236` → ports by transport. */
function listeningPorts(endpoints: string): { udp: number; tcp: number; ami: number; ws: number; wss: number; tls: number; http: number } {
  const port = (transport: string): number => Number(new RegExp(`(?:^|\\s)${transport}:\\S+:(\\d+)\\b`).exec(endpoints)?.[1] ?? 0);
  return { udp: port('udp'), tcp: port('tcp'), ami: port('ami'), ws: port('ws'), wss: port('wss'), tls: port('tls'), http: port('http') };
}

/** Starts presenced and resolves once it printed its listening line. */
export async function startServer(options: ServerOptions = {}): Promise<PresenceServer> {
  const workDir = await makeTempDir();
  const configFile = path.join(workDir, 'extensions.conf');
  await copyFile(repoPath(options.config ?? 'fixtures/integration/presence.conf'), configFile);
  const dataDir = options.dataDir ?? path.join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });

  const [command, ...prefix] = [...(options.launcher ?? []), process.execPath];
  const child = spawn(command!, [...prefix, ...serverArguments(options, configFile, dataDir)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...ISOLATED_ENV, ...options.env },
    cwd: options.cwd,
  });
  running.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const cleanup = exited.then(async (status) => {
    await removeDir(workDir);
    return status;
  });

  const stopWith = async (signal: NodeJS.Signals): Promise<ExitStatus> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const status = await cleanup;
    clearTimeout(forced);
    return status;
  };

  let listening: RegExpExecArray;
  try {
    listening = await waitForListeningLine(child, exited, () => stderr);
  } catch (error) {
    await stopWith('SIGKILL');
    throw error;
  }
  const ports = listeningPorts(listening[1]);
  for (const transport of ['udp', 'tcp'] as const) {
    if (options[transport] !== 'off' && ports[transport] === 0) {
      await stopWith('SIGKILL');
      throw new Error(`listening line names no ${transport} port: ${listening[0]}`);
    }
  }

  return {
    udpPort: ports.udp,
    tcpPort: ports.tcp,
    amiPort: ports.ami,
    wsPort: ports.ws,
    wssPort: ports.wss,
    tlsPort: ports.tls,
    httpPort: ports.http,
    hints: Number(listening[2]),
    dataDir,
    configFile,
    stop: (signal = 'SIGTERM') => stopWith(signal),
    kill: () => stopWith('SIGKILL'),
    signal: (signal) => void child.kill(signal),
    cli: (args) => runCli(dataDir, args, { env: options.env }),
    devicestate: (args) => runCli(dataDir, args, { env: options.env }, 'devicestate'),
    stderr: () => stderr,
    pid: child.pid!,
  };
}

function waitForListeningLine(child: ChildProcess, exited: Promise<ExitStatus>, stderr: () => string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`presenced printed no listening line within ${STARTUP_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr()}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n').slice(0, -1)) {
        const match = LISTENING_LINE.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`presenced exited (code ${code}, signal ${signal}) before listening\nstdout: ${stdout}\nstderr: ${stderr()}`));
    });
  });
}
