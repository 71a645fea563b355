/**
 * Prometheus metrics on prom-client: one registry per server, every instrument named `presenced_*`, plus Node's
 * default process metrics (event-loop lag, heap, CPU, file descriptors). Modules do not know this file: the
 * composition root hands each the observer it reports to (the SIP core's StackObserver, the fan-out callback, the
 * store's timing), and the gauges read counts when scraped. Every label has a bounded set of values, whatever peers
 * send. docs/OPERATIONS.md lists them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StackObserver } from '../sip/stack.js';
import type { TransactionResult } from '../sip/client-transaction.js';
import type { Store } from '../store/store.js';

/** Counts read when scraped. */
export interface MetricsSources {
  /** The live subscriptions: their event package and transport (Via token). */
  subscriptions: () => Iterable<{ event: string; transport: string }>;
  /** Open connections by transport (TCP, TLS, WS, WSS). */
  connections: () => Iterable<{ transport: string; count: number }>;
  /** Live publications. */
  publications: () => number;
  /** Open AMI connections (0 without AMI). */
  amiSessions: () => number;
  /** Whether overload control is shedding new SUBSCRIBEs and PUBLISHes now. */
  overloaded: () => boolean;
}

/** Methods with a label of their own; anything else a peer sends counts as 'other'. */
const METHODS = new Set(['SUBSCRIBE', 'PUBLISH', 'NOTIFY', 'OPTIONS', 'REGISTER', 'INVITE', 'MESSAGE', 'INFO', 'BYE', 'CANCEL']);

/** The store's writes, timed. */
const STORE_WRITES = [
  'nextVersion', 'savePresence', 'deletePresence', 'saveDeviceState', 'writeSubscriptions', 'savePublication',
  'deletePublication', 'saveDocument', 'deleteDocument',
] as const satisfies ReadonlyArray<keyof Store>;

export class Metrics {
  readonly registry = new Registry();
  private readonly answers: Counter<'method' | 'status'>;
  private readonly notifiesSent: Counter;
  private readonly notifyFailures: Counter<'status'>;
  private readonly notifyRetransmissions: Counter;
  private readonly stateChanges: Counter<'source'>;
  private readonly deviceChanges: Counter;
  private readonly fanOut: Histogram;
  private readonly storeWrites: Histogram<'operation'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.answers = new Counter({
      name: 'presenced_sip_responses_total', help: 'Final responses sent to SIP requests, by method and status', labelNames: ['method', 'status'], registers,
    });
    this.notifiesSent = new Counter({ name: 'presenced_notifies_sent_total', help: 'NOTIFY transactions started', registers });
    this.notifyFailures = new Counter({
      name: 'presenced_notifies_failed_total', labelNames: ['status'], registers,
      help: 'NOTIFY transactions that failed: the error status the watcher answered, timeout (no answer until Timer F) or unreachable (could not be sent)',
    });
    this.notifyRetransmissions = new Counter({ name: 'presenced_notify_retransmissions_total', help: 'NOTIFYs sent again on Timer E (UDP)', registers });
    this.stateChanges = new Counter({
      name: 'presenced_state_changes_total', labelNames: ['source'], registers,
      help: 'CustomPresence state changes, by source: cli, ami, http, sip (PUBLISH), cluster (another node)',
    });
    this.deviceChanges = new Counter({ name: 'presenced_device_changes_total', help: 'Device state changes (Custom: devices and other sources)', registers });
    this.fanOut = new Histogram({
      name: 'presenced_fanout_duration_seconds', registers, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      help: 'From a state change to the last of its NOTIFYs handed to the transport',
    });
    this.storeWrites = new Histogram({
      name: 'presenced_store_write_duration_seconds', labelNames: ['operation'], registers,
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], help: 'Store writes, by operation, until durable',
    });
    new Gauge({
      name: 'presenced_subscriptions', help: 'Live subscriptions, by event package and transport', labelNames: ['event', 'transport'], registers,
      collect() {
        const counts = new Map<string, { event: string; transport: string; count: number }>();
        for (const { event, transport } of sources.subscriptions()) {
          const key = `${event} ${transport}`;
          const entry = counts.get(key) ?? counts.set(key, { event, transport, count: 0 }).get(key)!;
          entry.count++;
        }
        this.reset();
        for (const { event, transport, count } of counts.values()) this.set({ event, transport }, count);
      },
    });
    new Gauge({
      name: 'presenced_connections', help: 'Open SIP connections, by transport', labelNames: ['transport'], registers,
      collect() {
        this.reset();
        for (const { transport, count } of sources.connections()) this.set({ transport }, count);
      },
    });
    new Gauge({
      name: 'presenced_publications', help: 'Live PUBLISHed presence states', registers,
      collect() {
        this.set(sources.publications());
      },
    });
    new Gauge({
      name: 'presenced_ami_sessions', help: 'Open AMI connections', registers,
      collect() {
        this.set(sources.amiSessions());
      },
    });
    new Gauge({
      name: 'presenced_overloaded', help: '1 while overload control answers new SUBSCRIBEs and PUBLISHes 503', registers,
      collect() {
        this.set(sources.overloaded() ? 1 : 0);
      },
    });
  }

  /** What the SIP core reports: answers by method and status, NOTIFYs sent, failed and retransmitted. */
  readonly sip: StackObserver = {
    answered: (method, status) => this.answers.inc({ method: METHODS.has(method) ? method : 'other', status }),
    requestSent: (method) => {
      if (method === 'NOTIFY') this.notifiesSent.inc();
    },
    requestRetransmitted: (method) => {
      if (method === 'NOTIFY') this.notifyRetransmissions.inc();
    },
    requestCompleted: (method, result) => {
      if (method === 'NOTIFY' && result.status >= 300) this.notifyFailures.inc({ status: failureStatus(result) });
    },
  };

  /** A presence state changed; `source` as the audit line has it ('cli', 'ami:admin@127.0.0.1', 'http:6001 (login)'). */
  stateChanged(source: string): void {
    this.stateChanges.inc({ source: sourceKind(source) });
  }

  deviceChanged(): void {
    this.deviceChanges.inc();
  }

  fanOutDone(seconds: number): void {
    this.fanOut.observe(seconds);
  }

  /** The store with its writes timed; everything else passes through to it untouched. */
  timed(store: Store): Store {
    const wrappers = new Map<PropertyKey, unknown>();
    for (const operation of STORE_WRITES) {
      const write = store[operation] as (...args: unknown[]) => Promise<unknown>;
      wrappers.set(operation, async (...args: unknown[]): Promise<unknown> => {
        const end = this.storeWrites.startTimer({ operation });
        try {
          return await write.apply(store, args);
        } finally {
          end();
        }
      });
    }
    return new Proxy(store, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return wrappers.get(property) ?? wrappers.set(property, value.bind(target)).get(property);
      },
    });
  }

  /** The text exposition format, for GET /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function failureStatus(result: TransactionResult): string {
  if (result.response) return String(result.status);
  return result.status === 408 ? 'timeout' : 'unreachable';
}

/** 'ami:admin@127.0.0.1' → 'ami': the kind of source, never the peer's own text. */
function sourceKind(source: string): string {
  const kind = /^[a-z]+/.exec(source)?.[0] ?? 'other';
  return ['cli', 'ami', 'http', 'sip', 'cluster'].includes(kind) ? kind : 'other';
}
