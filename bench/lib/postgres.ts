// A throwaway PostgreSQL server for the Kamailio peer's tables (Debian postgresql and kamailio-postgres-modules,
// installed by `bash scripts/install-deps.sh --bench`): its own cluster in a temporary directory, trust
// authentication, TCP on 127.0.0.1 only, removed when it stops. PostgreSQL refuses to run as root, so under root it
// runs as the package's `postgres` user, in that user's home.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeUdpPort } from './ports.js';

const SCHEMA_DIR = '/usr/share/kamailio/postgres';
const DATABASE = 'kamailio';
const READY_TIMEOUT_MS = 20_000;

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const newest = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : path.join(root, newest, 'bin');
}

export function postgresAvailable(): boolean {
  const bin = binDir();
  return bin !== undefined && existsSync(path.join(bin, 'postgres')) && existsSync(path.join(SCHEMA_DIR, 'presence-create.sql'));
}

export interface PostgresServer {
  readonly pid: number;
  /** Kamailio's db_url for the database holding the presence tables. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Under root, the `postgres` user (initdb and postgres refuse root): its ids and its home (passwd(5)). */
function owner(): { uid: number; gid: number; home: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const [, , uid, gid, , home] = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim().split(':');
  return { uid: Number(uid), gid: Number(gid), home: home! };
}

/** Starts PostgreSQL with Kamailio's standard and presence tables loaded. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  if (!bin || !postgresAvailable()) throw new Error('PostgreSQL and kamailio-postgres-modules are not installed (bash scripts/install-deps.sh --bench)');
  const user = owner();
  const dir = mkdtempSync(path.join(user?.home ?? tmpdir(), 'presenced-bench-postgres-'));
  let server: ChildProcess | undefined;
  try {
    return await launch(bin, dir, user, (started) => (server = started));
  } catch (error) {
    // Nothing of a server that did not start stays behind: its process, its cluster.
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(bin: string, dir: string, user: ReturnType<typeof owner>, started: (server: ChildProcess) => void): Promise<PostgresServer> {
  const dataDir = path.join(dir, 'pgdata');
  mkdirSync(dataDir, { recursive: true });
  if (user) for (const owned of [dir, dataDir]) chownSync(owned, user.uid, user.gid);
  const options = { uid: user?.uid, gid: user?.gid, cwd: dir };
  const run = (program: string, args: string[]): void => {
    try {
      execFileSync(path.join(bin, program), args, { ...options, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
      throw new Error(`PostgreSQL: ${program} failed: ${stderr || String(error)}`);
    }
  };
  run('initdb', ['-D', dataDir, '--auth=trust', '--username=postgres', '--no-sync', '--encoding=UTF8']);
  // Any free port will do for TCP; the UDP helper finds one that is free for both on loopback in practice.
  const port = await freeUdpPort();
  // synchronous_commit off: commits are crash-safe but not flushed one by one, as presenced's SQLite store in WAL
  // mode with synchronous=NORMAL.
  const server = spawn(path.join(bin, 'postgres'), [
    '-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`,
    '-c', 'synchronous_commit=off',
  ], { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
  started(server);
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => {
    if (log.length < 20_000) log += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!log.includes('ready to accept connections')) {
    if (server.exitCode !== null || Date.now() > deadline) {
      throw new Error(`PostgreSQL did not start: ${log.trim().split('\n').slice(-3).join(' / ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const connect = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q'];
  run('psql', [...connect, '-d', 'postgres', '-c', `CREATE DATABASE ${DATABASE}`]);
  for (const schema of ['standard-create.sql', 'presence-create.sql']) run('psql', [...connect, '-d', DATABASE, '-f', path.join(SCHEMA_DIR, schema)]);
  return {
    pid: server.pid!,
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (ends the sessions, no waiting for clients).
      server.kill('SIGINT');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
