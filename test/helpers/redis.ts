// Runs a real redis-server (Debian package, installed by scripts/install-deps.sh) on a free loopback port.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, makeTempDir, removeDir } from './server.js';

const READY_TIMEOUT_MS = 10000;

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT/DB */
  url(db?: number): string;
  /** Stops it (SIGTERM: it writes its append-only file) and waits. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data: what it had acknowledged is back. */
  restart(): Promise<void>;
  /**
   * Closes every pub/sub connection (CLIENT KILL TYPE pubsub): what is published before a subscriber is back is lost
   * to it, as in a network cut.
   */
  cutSubscribers(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(port: number, dir: string): Promise<ChildProcess> {
  // Every write is in the append-only file, fsynced, before Redis answers: nothing acknowledged is lost on a restart.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--daemonize', 'no', '--protected-mode', 'yes'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server printed no ready line within ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Not skipped: scripts/install-deps.sh installs it, so a missing one is a broken machine.
      reject(new Error(error.code === 'ENOENT' ? 'redis-server is not installed: run bash scripts/install-deps.sh' : error.message));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });
}

function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export async function startRedis(): Promise<RedisServer> {
  const dir = await makeTempDir('presenced-redis-');
  const port = await freePort();
  let child = await launch(port, dir);
  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    stop: () => stopped(child, 'SIGTERM'),
    restart: async () => {
      await stopped(child, 'SIGTERM');
      child = await launch(port, dir);
    },
    cutSubscribers: async () => {
      await promisify(execFile)('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'CLIENT', 'KILL', 'TYPE', 'pubsub']);
    },
    close: async () => {
      await stopped(child, 'SIGKILL');
      await removeDir(dir);
    },
  };
}
