// Runs the real daemon (`node bin/presenced`, from the repo root) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { monotonicMs } from './clock.js';

const LISTENING_LINE = /^presenced listening on (.*) with (\d+) hints?\s*$/m;
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** Set to a directory to have every server started by the bench write a V8 CPU profile there when it exits. */
const CPU_PROFILE_VARIABLE = 'PRESENCED_BENCH_CPU_PROF';
/** Optional sampling interval for those profiles, in microseconds (V8's default is 1000). */
const CPU_PROFILE_INTERVAL_VARIABLE = 'PRESENCED_BENCH_CPU_PROF_INTERVAL';

export interface ServerLaunch {
  configFile: string;
  dataDir: string;
  /** `host:port`; default 127.0.0.1:0 (any free port). */
  udp?: string;
  logLevel?: 'warn' | 'info';
  /** Further daemon options, appended as given (e.g. `['--http', '127.0.0.1:0']`). */
  args?: string[];
}

export interface ServerProcess {
  readonly pid: number;
  readonly host: string;
  readonly udpPort: number;
  /** 0 unless `--http` is among the arguments. */
  readonly httpPort: number;
  /** 0 unless `--ws` is among the arguments. */
  readonly wsPort: number;
  readonly hints: number;
  /** From spawn to the listening line; the daemon prints it once restored subscriptions are back. */
  readonly startupMs: number;
  /** The exact command, for the results. */
  readonly command: string;
  stderr(): string;
  /** Sends `signal`, waits for the exit (SIGKILL after 15 s) and returns how long the exit took. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startServer(launch: ServerLaunch): Promise<ServerProcess> {
  const profileDir = process.env[CPU_PROFILE_VARIABLE];
  const profileInterval = process.env[CPU_PROFILE_INTERVAL_VARIABLE];
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : []),
    ...(profileDir && profileInterval ? ['--cpu-prof-interval', profileInterval] : []),
    path.resolve(process.cwd(), 'bin', 'presenced'),
    '--config', launch.configFile,
    '--udp', launch.udp ?? '127.0.0.1:0',
    '--tcp', 'off',
    '--data', launch.dataDir,
    '--log-level', launch.logLevel ?? 'warn',
    // Every watcher of the bench comes from 127.0.0.1, most of them to one extension.
    '--max-subscriptions-per-source', '1000000',
    '--max-subscriptions-per-presentity', '1000000',
    // The figures fill servers as fast as they take it (100,000 watchers at once, 1,000 sockets that each send again
    // as soon as they are answered): overload control, which would turn part of that away, is the overload figure's
    // subject, and off elsewhere.
    ...(launch.args?.includes('--overload-delay') ? [] : ['--overload-lag', '0']),
    ...(launch.args ?? []),
  ];
  const spawnedAt = monotonicMs();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));

  const listening = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`presenced did not start in ${STARTUP_TIMEOUT_MS} ms\n${stderr}`)), STARTUP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING_LINE.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`presenced exited before listening\n${stderr}`));
    });
  }).catch(async (error: Error) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });
  const startupMs = monotonicMs() - spawnedAt;
  const udp = /\budp:(\S+):(\d+)\b/.exec(listening[1]!);
  if (!udp) {
    child.kill('SIGKILL');
    throw new Error(`listening line names no UDP address: ${listening[0]}`);
  }

  return {
    pid: child.pid!,
    host: udp[1]!,
    udpPort: Number(udp[2]),
    httpPort: Number(/\bhttp:\S+:(\d+)\b/.exec(listening[1]!)?.[1] ?? 0),
    wsPort: Number(/\bws:\S+:(\d+)\b/.exec(listening[1]!)?.[1] ?? 0),
    hints: Number(listening[2]),
    startupMs,
    command: `node ${args.map((arg) => (path.isAbsolute(arg) && arg.startsWith(process.cwd()) ? path.relative(process.cwd(), arg) : arg)).join(' ')}`,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      const stoppingAt = monotonicMs();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(forced);
      return monotonicMs() - stoppingAt;
    },
  };
}
