// The bench's handle on its watcher process (watcher-process.ts).
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchEvent, Endpoint } from './sip-ua.js';
import type { ArrivalKind, ExpectedReport, SubscribedReport, WatcherCommand, WatcherReport } from './watcher-protocol.js';

const PROCESS_FILE = fileURLToPath(new URL('./watcher-process.js', import.meta.url));
/** Enough sockets that a 10,000-datagram burst fits their receive buffers (4 MiB each). */
const DEFAULT_SOCKETS = 8;
/** Set to a directory to have the watcher process write a V8 CPU profile there when it exits (like the server's
 *  PRESENCED_BENCH_CPU_PROF; PRESENCED_BENCH_CPU_PROF_INTERVAL applies too). */
const CPU_PROFILE_VARIABLE = 'PRESENCED_BENCH_WATCHER_CPU_PROF';

export interface SubscribeRequest {
  server: Endpoint;
  extens: string[];
  /** Subscriptions per exten. */
  each: number;
  rate: number;
  window: number;
  expires?: number;
  settleMs?: number;
  /** The event package to subscribe to; presence by default. */
  event?: BenchEvent;
}

export interface Armed {
  result: Promise<ExpectedReport>;
}

export class Watchers {
  private subscribed: ((report: SubscribedReport) => void) | undefined;
  private readonly expected = new Map<ArrivalKind, (report: ExpectedReport) => void>();
  private readonly armed = new Map<ArrivalKind, () => void>();
  private readonly firsts = new Map<ArrivalKind, (at: number) => void>();
  /** Rejecters of everything awaited from the process, so that its death fails the figure instead of hanging it. */
  private readonly waiting = new Set<(error: Error) => void>();
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly ports: number[]) {
    child.on('message', (report: WatcherReport) => this.receive(report));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      if (!this.closing) for (const reject of this.waiting) reject(new Error(`watcher process died (${signal ?? code})`));
      resolve();
    }));
  }

  static start(sockets = DEFAULT_SOCKETS): Promise<Watchers> {
    const profileDir = process.env[CPU_PROFILE_VARIABLE];
    const profileInterval = process.env['PRESENCED_BENCH_CPU_PROF_INTERVAL'];
    const execArgv = [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir)] : []),
      ...(profileDir && profileInterval ? ['--cpu-prof-interval', profileInterval] : []),
    ];
    const child = fork(PROCESS_FILE, [String(sockets)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`watcher process exited with ${code} before it was ready`)));
      child.once('message', (report: WatcherReport) => {
        if (report.type !== 'ready') return reject(new Error(`watcher process sent ${report.type} before ready`));
        child.removeAllListeners('exit');
        resolve(new Watchers(child, report.ports));
      });
    });
  }

  subscribe(request: SubscribeRequest): Promise<SubscribedReport> {
    return this.await((resolve) => {
      this.subscribed = resolve;
      this.send({ type: 'subscribe', expires: 3600, settleMs: 30_000, ...request });
    });
  }

  /**
   * Starts counting arrivals of `kind` and resolves once the watcher process counts (start the burst then).
   * `result` resolves when `count` new arrivals are in, or after `timeoutMs`; `onFirst` runs at the first one.
   */
  arm(kind: ArrivalKind, count: number, timeoutMs: number, onFirst?: (at: number) => void): Promise<Armed> {
    return this.await((armed) => {
      const result = this.await<ExpectedReport>((resolve) => this.expected.set(kind, resolve));
      // Awaited later: a death in between must not count as an unhandled rejection.
      result.catch(() => undefined);
      this.armed.set(kind, () => armed({ result }));
      if (onFirst) this.firsts.set(kind, onFirst);
      this.send({ type: 'expect', kind, count, timeoutMs });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.child.connected) this.send({ type: 'close' });
    const forced = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(forced);
  }

  private await<T>(start: (resolve: (value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      start((value) => {
        this.waiting.delete(reject);
        resolve(value);
      });
    });
  }

  private send(command: WatcherCommand): void {
    this.child.send(command);
  }

  private receive(report: WatcherReport): void {
    switch (report.type) {
      case 'subscribed':
        this.subscribed?.(report);
        this.subscribed = undefined;
        break;
      case 'armed':
        this.armed.get(report.kind)?.();
        this.armed.delete(report.kind);
        break;
      case 'first':
        this.firsts.get(report.kind)?.(report.at);
        this.firsts.delete(report.kind);
        break;
      case 'expected':
        this.expected.get(report.kind)?.(report);
        this.expected.delete(report.kind);
        this.firsts.delete(report.kind);
        break;
      case 'ready':
        break;
    }
  }
}
