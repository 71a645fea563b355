// Overload figures: the subscribe cycle offered at 1.4× and 2× the clean capacity (figure 2), each on a fresh server
// with overload control at its defaults. Counted: full cycles completed per second, new SUBSCRIBEs refused with 503
// (read from the server's /metrics), SIPp's retransmissions, the p99 SUBSCRIBE → 200 time of the accepted calls and
// the server's peak RSS. Then, on the same server, a clean step at half the capacity shows it is back to normal.
import { setTimeout as sleep } from 'node:timers/promises';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { rssBytes } from './lib/proc.js';
import { writeSippDialplan } from './lib/resources.js';
import { startTarget, targetArgument, type Target, type TargetName } from './lib/target.js';
import { DEFAULT_OVERLOAD } from '../lib/overload/load-monitor.js';
import { readResponseTimes, runSipp, SUBSCRIBE_CYCLE_SCENARIO } from './lib/sipp.js';
import { percentiles, round } from './lib/stats.js';

export const OVERLOAD_FACTORS = [1.4, 2];
const OVERLOAD_SCENARIO = 'fixtures/sipp/bench-subscribe-overload.xml';
const RUN_SECONDS = 10;
const RECOVERY_SECONDS = 5;
/** The clean capacity when figure 2 has not been measured in the same run (docs/PERFORMANCE.md). */
const DEFAULT_CAPACITY = 4000;
const RSS_SAMPLE_MS = 250;

/** The goal: at least this share of the clean rate completed, retransmissions and p99 under these. */
const MIN_COMPLETED_SHARE = 0.95;
const MAX_RETRANSMISSION_SHARE = 0.05;
const MAX_P99_MS = 100;

export interface OverloadStep {
  factor: number;
  offeredRate: number;
  calls: number;
  /** Full subscribe cycles (accepted, notified, unsubscribed). */
  completed: number;
  completedPerSecond: number;
  /** New SUBSCRIBEs answered 503 by overload control. */
  refused: number;
  failed: number;
  retransmissions: number;
  /** p99 of SUBSCRIBE → 200 over the accepted calls, ms. */
  p99AcceptedMs: number;
  peakRssMiB: number;
  serverCpuSeconds: number;
  /** The clean step right after, on the same server. */
  recovery: { rate: number; calls: number; successful: number; failed: number; retransmissions: number };
  met: boolean;
  command: string;
  serverCommand: string;
}

export interface OverloadDetails {
  capacity: number;
  steps: OverloadStep[];
}

/** presenced_sip_responses_total{method="SUBSCRIBE",status="503"} from the server's Prometheus endpoint (a peer
 *  without one, Kamailio, has no overload control that answers 503). */
async function refusedSubscribes(server: Target): Promise<number> {
  if (server.httpPort === 0) return 0;
  const text = await (await fetch(`http://${server.host}:${server.httpPort}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith('presenced_sip_responses_total{') && row.includes('method="SUBSCRIBE"') && row.includes('status="503"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function runOverloadStep(workDir: string, files: { configFile: string; csvFile: string }, capacity: number, factor: number, target: TargetName): Promise<OverloadStep> {
  const offeredRate = Math.round(capacity * factor);
  const server = await startTarget(target, files, workDir, `overload-${factor}`,
    ['--http', '127.0.0.1:0', '--overload-delay', String(DEFAULT_OVERLOAD.queueDelayMs)]);
  try {
    let peakRss = rssBytes(server.pid);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(server.pid))), RSS_SAMPLE_MS);
    const cpuBefore = server.cpuSeconds();
    const calls = offeredRate * RUN_SECONDS;
    const sipp = await runSipp({
      server: { host: server.host, port: server.udpPort }, scenario: OVERLOAD_SCENARIO, csvFile: files.csvFile,
      rate: offeredRate, calls, workDir, traceRtt: true,
    }).finally(() => clearInterval(sampler));
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    const refused = await refusedSubscribes(server);
    const completed = sipp.successful - refused;
    const accepted = percentiles(sipp.rttFile ? readResponseTimes(sipp.rttFile) : []);

    // Back to clean: a few seconds later, half the capacity, no failure and no retransmission expected.
    await sleep(2000);
    const recoveryRate = Math.round(capacity / 2);
    const clean = await runSipp({
      server: { host: server.host, port: server.udpPort }, scenario: SUBSCRIBE_CYCLE_SCENARIO, csvFile: files.csvFile,
      rate: recoveryRate, calls: recoveryRate * RECOVERY_SECONDS, workDir,
    });
    const recovery = { rate: recoveryRate, calls: recoveryRate * RECOVERY_SECONDS, successful: clean.successful, failed: clean.failed, retransmissions: clean.retransmissions };
    const completedPerSecond = round(completed / RUN_SECONDS, 0);
    const met = completedPerSecond >= MIN_COMPLETED_SHARE * capacity
      && sipp.retransmissions <= MAX_RETRANSMISSION_SHARE * completed
      && accepted.p99 <= MAX_P99_MS
      && recovery.failed === 0 && recovery.retransmissions === 0 && recovery.successful === recovery.calls;
    return {
      factor, offeredRate, calls, completed, completedPerSecond, refused,
      failed: sipp.failed, retransmissions: sipp.retransmissions,
      p99AcceptedMs: accepted.p99,
      peakRssMiB: round(peakRss / 2 ** 20, 0),
      serverCpuSeconds: round(serverCpuSeconds),
      recovery, met,
      command: sipp.command,
      serverCommand: server.command,
    };
  } finally {
    await server.stop();
  }
}

export async function benchOverload(capacity = DEFAULT_CAPACITY, factors: readonly number[] = OVERLOAD_FACTORS, target: TargetName = 'presenced'): Promise<Figure<OverloadDetails>> {
  const workDir = await makeWorkDir('overload');
  try {
    const files = writeSippDialplan(workDir);
    const steps: OverloadStep[] = [];
    // Each step on a fresh server: one left running after an overloaded step would still be busy with it.
    for (const factor of factors) steps.push(await runOverloadStep(workDir, files, capacity, factor, target));
    const describe = (step: OverloadStep): string =>
      `${step.factor}× (${step.offeredRate}/s): ${step.completedPerSecond} completed/s, ${step.refused} refused 503, ` +
      `${step.failed} failed, ${step.retransmissions} retransmissions, p99 ${step.p99AcceptedMs} ms, peak ${step.peakRssMiB} MiB; ` +
      `after: ${step.recovery.successful}/${step.recovery.calls} at ${step.recovery.rate}/s, ${step.recovery.retransmissions} retransmissions`;
    return {
      line: `${target === 'presenced' ? '' : `${target} `}overload (capacity ${capacity}/s): ${steps.map(describe).join('; ')}`,
      target: `≥ ${MIN_COMPLETED_SHARE * 100} % of capacity completed, retransmissions < ${MAX_RETRANSMISSION_SHARE * 100} % of completed, p99 < ${MAX_P99_MS} ms, clean right after`,
      met: steps.every((step) => step.met),
      details: { capacity, steps },
    };
  } finally {
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  // node dist/bench/overload.js [--peer kamailio] [CAPACITY [FACTOR…]]
  const peer = targetArgument();
  const [capacity, ...factors] = process.argv.slice(2).map(Number).filter((value) => value > 0);
  const figure = await benchOverload(capacity ?? DEFAULT_CAPACITY, factors.length > 0 ? factors : OVERLOAD_FACTORS, peer);
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
}
