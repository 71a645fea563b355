// The watcher process: a few UDP sockets carrying many subscriptions, in its own process so that answering NOTIFYs
// shares neither the server's event loop nor the bench's. Started by watchers.ts; speaks watcher-protocol.ts.
import { monotonicMs } from './clock.js';
import { SipUserAgent, type SubscribeOutcome } from './sip-ua.js';
import { percentiles } from './stats.js';
import type { ArrivalKind, ExpectedReport, WatcherCommand, WatcherReport } from './watcher-protocol.js';

const PACING_TICK_MS = 5;

interface Arrivals {
  count: number;
  repeats: number;
  bytes: number;
  lastAt: number;
  lastAnsweredAt: number;
}

interface Expectation {
  kind: ArrivalKind;
  base: Arrivals;
  target: number;
  /** Tell the bench about the first arrival (internal waits do not). */
  announce: boolean;
  firstAt: number | undefined;
  cpuAtArm: NodeJS.CpuUsage;
  /** CPU used up to the last arrival counted (taken when the target is reached). */
  cpuAtLast: NodeJS.CpuUsage | undefined;
  done(): void;
}

const arrivals: Record<ArrivalKind, Arrivals> = {
  notify: { count: 0, repeats: 0, bytes: 0, lastAt: 0, lastAnsweredAt: 0 },
  raw: { count: 0, repeats: 0, bytes: 0, lastAt: 0, lastAnsweredAt: 0 },
};
const expectations = new Set<Expectation>();

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function report(message: WatcherReport): void {
  process.send!(message);
}

function arrived(kind: ArrivalKind, bytes: number, repeat: boolean, answeredAt: number): void {
  const totals = arrivals[kind];
  if (repeat) {
    totals.repeats++;
    return;
  }
  totals.count++;
  totals.bytes += bytes;
  totals.lastAt = monotonicMs();
  totals.lastAnsweredAt = answeredAt;
  for (const expectation of expectations) {
    if (expectation.kind !== kind) continue;
    if (expectation.firstAt === undefined) {
      expectation.firstAt = totals.lastAt;
      if (expectation.announce) report({ type: 'first', kind, at: totals.lastAt });
    }
    if (totals.count - expectation.base.count >= expectation.target) {
      expectation.cpuAtLast = process.cpuUsage(expectation.cpuAtArm);
      expectation.done();
    }
  }
}

const events = {
  notify: (bytes: number, repeat: boolean, answeredAt: number) => arrived('notify', bytes, repeat, answeredAt),
  raw: (bytes: number) => arrived('raw', bytes, false, monotonicMs()),
};

function expect(kind: ArrivalKind, count: number, timeoutMs: number, announce: boolean): Promise<ExpectedReport> {
  return new Promise((resolve) => {
    const expectation: Expectation = {
      kind, base: { ...arrivals[kind] }, target: count, announce, firstAt: undefined,
      cpuAtArm: process.cpuUsage(), cpuAtLast: undefined,
      done: () => {
        clearTimeout(timer);
        expectations.delete(expectation);
        const now = arrivals[kind];
        const received = now.count - expectation.base.count;
        resolve({
          type: 'expected', kind, received,
          repeats: now.repeats - expectation.base.repeats,
          averageBytes: received === 0 ? 0 : Math.round((now.bytes - expectation.base.bytes) / received),
          firstAt: expectation.firstAt ?? 0,
          lastAt: received === 0 ? 0 : now.lastAt,
          lastAnsweredAt: received === 0 ? 0 : now.lastAnsweredAt,
          cpuMs: cpuMs(expectation.cpuAtLast ?? process.cpuUsage(expectation.cpuAtArm)),
        });
      },
    };
    const timer = setTimeout(() => expectation.done(), timeoutMs);
    expectations.add(expectation);
    if (announce) report({ type: 'armed', kind });
    if (count <= 0) expectation.done();
  });
}

/** Starts `total` SUBSCRIBEs, no faster than `rate`/s and with at most `window` awaiting their final response. */
function paced(total: number, rate: number, window: number, start: (index: number) => Promise<SubscribeOutcome>): Promise<SubscribeOutcome[]> {
  const outcomes: SubscribeOutcome[] = new Array<SubscribeOutcome>(total);
  return new Promise((resolve) => {
    const startedAt = monotonicMs();
    let started = 0;
    let finished = 0;
    let outstanding = 0;
    const tick = (): void => {
      const allowed = Math.min(total, Math.floor(((monotonicMs() - startedAt) * rate) / 1000) + 1);
      while (started < allowed && outstanding < window) {
        const index = started++;
        outstanding++;
        void start(index).then((outcome) => {
          outcomes[index] = outcome;
          outstanding--;
          if (++finished === total) {
            clearInterval(timer);
            resolve(outcomes);
          }
        });
      }
    };
    const timer = setInterval(tick, PACING_TICK_MS);
    if (total === 0) {
      clearInterval(timer);
      resolve(outcomes);
    } else {
      tick();
    }
  });
}

async function subscribe(agents: SipUserAgent[], command: Extract<WatcherCommand, { type: 'subscribe' }>): Promise<void> {
  const { server, extens, each, rate, window, expires, settleMs, event } = command;
  const total = extens.length * each;
  const startedAt = monotonicMs();
  const initialNotifies = arrivals.notify.count;
  const outcomes = await paced(total, rate, window, (i) => agents[i % agents.length]!.subscribe(server, extens[i % extens.length]!, expires, event));
  const ok = outcomes.filter((outcome) => outcome.status >= 200 && outcome.status < 300).length;
  const pendingNotifies = ok - (arrivals.notify.count - initialNotifies);
  if (pendingNotifies > 0) await expect('notify', pendingNotifies, settleMs, false);
  report({
    type: 'subscribed',
    ok,
    failed: total - ok,
    retransmissions: outcomes.reduce((sum, outcome) => sum + outcome.retransmissions, 0),
    notifies: arrivals.notify.count - initialNotifies,
    elapsedMs: monotonicMs() - startedAt,
    latencyMs: percentiles(outcomes.map((outcome) => outcome.ms)),
  });
}

const socketCount = Number(process.argv[2] ?? 8);
const agents = await Promise.all(Array.from({ length: socketCount }, () => SipUserAgent.open(events)));
process.on('message', (command: WatcherCommand) => {
  switch (command.type) {
    case 'subscribe':
      void subscribe(agents, command);
      break;
    case 'expect':
      void expect(command.kind, command.count, command.timeoutMs, true).then(report);
      break;
    case 'close':
      void Promise.all(agents.map((agent) => agent.close())).then(() => process.exit(0));
      break;
  }
});
report({ type: 'ready', ports: agents.map((agent) => agent.port) });
