// The bench's handle on its watcher process (watcher-process.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './sip-ua.js';
import type { ArrivalKind, ExpectedReport, SubscribedReport, WatcherCommand, WatcherReport } from './watcher-protocol.js';

const PROCESS_FILE = fileURLToPath(new URL('./watcher-process.js', import.meta.url));
/** Enough sockets that a 10,000-datagram burst fits their receive buffers (4 MiB each). */
const DEFAULT_SOCKETS = 8;

export interface SubscribeRequest {
  server: Endpoint;
  extens: string[];
  /** Subscriptions per exten. */
  each: number;
  rate: number;
  window: number;
  expires?: number;
  settleMs?: number;
}

export class Watchers {
  private subscribed: ((report: SubscribedReport) => void) | undefined;
  private readonly expected = new Map<ArrivalKind, (report: ExpectedReport) => void>();
  private readonly firsts = new Map<ArrivalKind, (at: number) => void>();
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly ports: number[]) {
    child.on('message', (report: WatcherReport) => this.receive(report));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static start(sockets = DEFAULT_SOCKETS): Promise<Watchers> {
    const child = fork(PROCESS_FILE, [String(sockets)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
    return new Promise((resolve) => {
      this.subscribed = resolve;
      this.send({ type: 'subscribe', expires: 3600, settleMs: 30_000, ...request });
    });
  }

  /** Resolves once `count` new arrivals of `kind` are in (or after `timeoutMs`); `onFirst` runs at the first one. */
  expect(kind: ArrivalKind, count: number, timeoutMs: number, onFirst?: (at: number) => void): Promise<ExpectedReport> {
    return new Promise((resolve) => {
      this.expected.set(kind, resolve);
      if (onFirst) this.firsts.set(kind, onFirst);
      this.send({ type: 'expect', kind, count, timeoutMs });
    });
  }

  async close(): Promise<void> {
    if (this.child.connected) this.send({ type: 'close' });
    const forced = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(forced);
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
