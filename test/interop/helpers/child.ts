// Child processes of the interop suite: every one is bounded in time and killed when a test ends or the run exits.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ExitStatus } from '../../helpers/server.js';

export type { ExitStatus };

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is a pipe the caller may write to. */
  input?: string | Buffer;
  /** SIGKILL after this long, so a client that hangs cannot hang the suite. */
  timeoutMs: number;
}

const STOP_GRACE_MS = 3000;
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A running client whose output is kept, so tests can wait for what it prints. */
export class ManagedProcess {
  readonly exited: Promise<ExitStatus>;
  private out = '';
  private err = '';
  private readonly listeners = new Set<() => void>();
  private readonly deadline: NodeJS.Timeout;

  constructor(readonly name: string, private readonly child: ChildProcess, timeoutMs: number) {
    live.add(child);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.append(() => (this.out += chunk)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.append(() => (this.err += chunk)));
    child.stdin?.on('error', () => undefined); // a client that quit closes its stdin under us; exit tells the story
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        live.delete(child);
        clearTimeout(this.deadline);
        this.append(() => undefined);
        resolve({ code, signal });
      }),
    );
    this.deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  }

  static start(command: string, args: string[], options: SpawnOptions): ManagedProcess {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const managed = new ManagedProcess(command, child, options.timeoutMs);
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.once('error', (error) => {
      managed.err += `\n${command}: ${error.message}`;
    });
    return managed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The command line it was started with, for reports. */
  get commandLine(): string {
    return this.child.spawnargs.join(' ');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  write(text: string): void {
    this.child.stdin?.write(text);
  }

  /** Resolves with the first non-undefined value of `probe` over the output so far, re-checked on every chunk. */
  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined) return finish(() => resolve(value));
        if (!this.running) finish(() => reject(new Error(`${this.name} exited before ${what}\n${this.transcript()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.transcript()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `signal`, then SIGKILL if the process is still there after a grace period. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    if (this.running) this.child.kill(signal);
    const forced = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    const status = await this.exited;
    clearTimeout(forced);
    return status;
  }

  /** The tail of everything the process printed, for failure messages. */
  transcript(limit = 4000): string {
    const text = `--- ${this.name} stdout ---\n${this.out}\n--- ${this.name} stderr ---\n${this.err}`;
    return text.length > limit ? `…${text.slice(-limit)}` : text;
  }

  private append(update: () => void): void {
    update();
    for (const listener of [...this.listeners]) listener();
  }
}

/** Runs a command to completion (killed at `timeoutMs`) and returns its exit status and output. */
export async function run(command: string, args: string[], options: SpawnOptions): Promise<RunResult> {
  const managed = ManagedProcess.start(command, args, { ...options, input: options.input ?? '' });
  const status = await managed.exited;
  return { ...status, stdout: managed.stdout(), stderr: managed.stderr() };
}
