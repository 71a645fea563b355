// Figure 3: one state change fanned out to 10,000 watchers (on one hint, or on 1,000 hints × 10 sharing one
// CustomPresence; or a device change to 10,000 dialog (BLF) watchers of one hint), timed at the watchers and set
// against a raw burst of as many datagrams of the NOTIFYs' size to the same sockets in the same run. A SUBSCRIBE sent
// while the fan-out runs shows whether the server still answers.
// `node dist/bench/fanout.js [case…]` measures the named cases only.
import path from 'node:path';
import { controlRequest } from '../lib/control/control-client.js';
import { monotonicMs, sleep } from './lib/clock.js';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { cpuSeconds, udpDrops } from './lib/proc.js';
import { sendRawBurst } from './lib/raw-sender.js';
import { extensionRange, writeHints } from './lib/resources.js';
import { startServer, type ServerProcess } from './lib/server-process.js';
import { SipUserAgent, type BenchEvent, type SubscribeOutcome } from './lib/sip-ua.js';
import { round } from './lib/stats.js';
import { Watchers } from './lib/watchers.js';

export interface FanoutCase {
  name: string;
  hints: number;
  watchersPerHint: number;
  /** 'dialog': the watchers are busy-lamp keys and the change is the hint's Custom: device; default presence. */
  event?: BenchEvent;
}

export const FANOUT_CASES: readonly FanoutCase[] = [
  { name: 'fanout-1x10000', hints: 1, watchersPerHint: 10_000 },
  { name: 'fanout-1000x10', hints: 1000, watchersPerHint: 10 },
  { name: 'fanout-dialog-1x10000', hints: 1, watchersPerHint: 10_000, event: 'dialog' },
];

/** Every fan-out hint shows this one provider and this one device, so one change reaches all watchers. */
const PRESENCE = 'fanout';
const DEVICE = 'Custom:fanout';
const FIRST_EXTEN = 200_000;
/** The probe's hint has its own provider: it is not part of the fan-out. */
const PROBE_EXTEN = '299999';
const SUBSCRIBE_RATE = 2000;
const SUBSCRIBE_WINDOW = 200;
/** Lets the journal flush and the per-watcher NOTIFY rate limit (--notify-rate) pass before the change. */
const QUIET_MS = 1000;
const BURST_TIMEOUT_MS = 60_000;
const TARGET_RATIO = 50;
const TARGET_PROBE_MS = 50;

export interface FanoutDetails {
  watchers: number;
  hints: number;
  subscribeMs: number;
  /** The control socket's answer to the change (the state is committed to the store by then). */
  changeAckMs: number;
  notifies: { received: number; repeats: number; averageBytes: number; firstMs: number; lastMs: number; lastAnsweredMs: number; perSecond: number };
  raw: { received: number; lastMs: number; perSecond: number };
  /** NOTIFY rate as a percentage of the raw rate. */
  percentOfRaw: number;
  probe: { status: number; ms: number; retransmissions: number; sentBeforeLastNotify: boolean } | undefined;
  /** Kernel drops during the fan-out on the server's socket (watchers' 200s, the probe) and on the watchers'. */
  drops: { server: number; watchers: number };
  /** CPU time used from the change request to the last NOTIFY's 200: the server (from /proc, 10 ms ticks; includes
   *  committing the change) and the watcher process (which answers every NOTIFY; near lastMs means it set the pace). */
  cpuMs: { server: number; watchers: number };
  serverCommand: string;
}

export async function benchFanout(fanout: FanoutCase): Promise<Figure<FanoutDetails>> {
  const workDir = await makeWorkDir(fanout.name);
  let server: ServerProcess | undefined;
  let watchers: Watchers | undefined;
  let probe: SipUserAgent | undefined;
  try {
    const extens = extensionRange(FIRST_EXTEN, fanout.hints);
    const configFile = writeHints(workDir, 'extensions.conf', [
      ...extens.map((exten) => ({ exten, presence: PRESENCE, device: fanout.event === 'dialog' ? DEVICE : undefined })),
      { exten: PROBE_EXTEN, presence: 'probe' },
    ]);
    const dataDir = path.join(workDir, 'data');
    server = await startServer({ configFile, dataDir });
    watchers = await Watchers.start();
    probe = await SipUserAgent.open({ notify: () => undefined, raw: () => undefined });
    const endpoint = { host: server.host, port: server.udpPort };
    const total = fanout.hints * fanout.watchersPerHint;
    const subscribed = await watchers.subscribe({
      server: endpoint, extens, each: fanout.watchersPerHint, rate: SUBSCRIBE_RATE, window: SUBSCRIBE_WINDOW, event: fanout.event,
    });
    if (subscribed.ok !== total) throw new Error(`${fanout.name}: only ${subscribed.ok} of ${total} watchers subscribed`);
    await sleep(QUIET_MS);
    const dropsBefore = { server: udpDrops([server.udpPort]), watchers: udpDrops(watchers.ports) };

    let probeSentAt = 0;
    let probeOutcome: Promise<SubscribeOutcome> | undefined;
    const prober = probe;
    const notifyArmed = await watchers.arm('notify', total, BURST_TIMEOUT_MS, () => {
      probeSentAt = monotonicMs();
      probeOutcome = prober.subscribe(endpoint, PROBE_EXTEN, 3600);
    });
    const serverCpuBefore = cpuSeconds(server.pid);
    const changedAt = monotonicMs();
    const answer = await controlRequest(dataDir, fanout.event === 'dialog'
      ? { command: 'device-change', device: DEVICE, state: 'INUSE' }
      : { command: 'change', entity: `CustomPresence:${PRESENCE}`, value: 'away' });
    const changeAckMs = monotonicMs() - changedAt;
    if (!answer.ok) throw new Error(`${fanout.name}: change refused: ${answer.error}`);
    const notifies = await notifyArmed.result;
    const serverCpuMs = (cpuSeconds(server.pid) - serverCpuBefore) * 1000;
    const probeResult = probeOutcome === undefined ? undefined : await probeOutcome;
    const serverDrops = udpDrops([server.udpPort]) - dropsBefore.server;

    // The raw burst is the machine's limit only with the sending code compiled: the first burst of a process runs
    // cold and takes up to twice as long. One unmeasured burst first (its datagrams arrive before the raw count is
    // armed).
    await sendRawBurst('127.0.0.1', watchers.ports, total, notifies.averageBytes);
    await sleep(QUIET_MS);
    const rawArmed = await watchers.arm('raw', total, BURST_TIMEOUT_MS);
    const rawStartedAt = await sendRawBurst('127.0.0.1', watchers.ports, total, notifies.averageBytes);
    const raw = await rawArmed.result;

    const lastMs = notifies.lastAt - changedAt;
    const rawMs = raw.lastAt - rawStartedAt;
    const notifyRate = (notifies.received * 1000) / lastMs;
    const rawRate = (raw.received * 1000) / rawMs;
    const details: FanoutDetails = {
      watchers: total,
      hints: fanout.hints,
      subscribeMs: round(subscribed.elapsedMs, 0),
      changeAckMs: round(changeAckMs),
      notifies: {
        received: notifies.received,
        repeats: notifies.repeats,
        averageBytes: notifies.averageBytes,
        firstMs: round(notifies.firstAt - changedAt),
        lastMs: round(lastMs),
        lastAnsweredMs: round(notifies.lastAnsweredAt - changedAt),
        perSecond: Math.round(notifyRate),
      },
      raw: { received: raw.received, lastMs: round(rawMs), perSecond: Math.round(rawRate) },
      percentOfRaw: round((notifyRate / rawRate) * 100, 1),
      probe: probeResult && {
        status: probeResult.status,
        ms: round(probeResult.ms),
        retransmissions: probeResult.retransmissions,
        sentBeforeLastNotify: probeSentAt < notifies.lastAt,
      },
      drops: { server: serverDrops, watchers: udpDrops(watchers.ports) - dropsBefore.watchers },
      cpuMs: { server: round(serverCpuMs, 0), watchers: round(notifies.cpuMs, 0) },
      serverCommand: server.command,
    };
    const complete = notifies.received === total && raw.received === total;
    const probeText = probeResult ? `new SUBSCRIBE answered ${probeResult.status} in ${details.probe!.ms} ms` : 'no probe sent';
    return {
      line: `${fanout.name}: ${notifies.received}/${total} NOTIFYs in ${details.notifies.lastMs} ms, 200s by ` +
        `${details.notifies.lastAnsweredMs} ms (${details.notifies.perSecond}/s); raw ${raw.received} datagrams in ` +
        `${details.raw.lastMs} ms (${details.raw.perSecond}/s) → ${details.percentOfRaw} % of raw; ${probeText}`,
      target: `≥ ${TARGET_RATIO} % of the raw rate; a new SUBSCRIBE answered within ${TARGET_PROBE_MS} ms during the fan-out`,
      met: complete && details.percentOfRaw >= TARGET_RATIO && probeResult !== undefined && probeResult.status === 200 && probeResult.ms <= TARGET_PROBE_MS,
      details,
    };
  } finally {
    await probe?.close();
    await watchers?.close();
    await server?.stop();
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  const named = process.argv.slice(2);
  for (const fanout of FANOUT_CASES.filter((candidate) => named.length === 0 || named.includes(candidate.name))) {
    const figure = await benchFanout(fanout);
    console.log(figure.line);
    console.log(JSON.stringify(figure.details, null, 2));
  }
}
