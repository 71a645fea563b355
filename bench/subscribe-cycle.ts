// Figure 2: the highest SIPp call rate (SUBSCRIBE → 200 → NOTIFY → 200 → 1 s → un-SUBSCRIBE → 200 → NOTIFY → 200)
// with 0 failed calls and 0 retransmissions in a 10 s run, stepping the rate up with a fresh server per step.
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { udpDrops } from './lib/proc.js';
import { writeSippDialplan } from './lib/resources.js';
import { startTarget, targetArgument, type TargetName } from './lib/target.js';
import { runSipp, SUBSCRIBE_CYCLE_SCENARIO } from './lib/sipp.js';
import { round } from './lib/stats.js';

export const CYCLE_RATES = [1000, 2000, 3000, 3500, 4000, 5000, 6000, 7000];
/** The same steps for `--peer kamailio`, after two lower ones: on its database it is clean only up to about 1,000/s. */
export const PEER_CYCLE_RATES = [250, 500, ...CYCLE_RATES];
const RUN_SECONDS = 10;
const TARGET_RATE = 3500;

export interface CycleStep {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  sippExitCode: number | null;
  /** SIPp's achieved average call rate. */
  achievedRate: number;
  serverCpuSeconds: number;
  /** Server CPU ms per successful call (= CPU seconds per 1,000 calls). */
  cpuMsPerCall: number;
  /** Datagrams the kernel dropped on the server's and SIPp's sockets. */
  serverDrops: number;
  sippDrops: number;
  passed: boolean;
  command: string;
  serverCommand: string;
}

export interface CycleDetails {
  /** Highest passing rate (0 if none). */
  rate: number;
  cpuMsPerCall: number | undefined;
  steps: CycleStep[];
}

async function runCycleStep(workDir: string, files: { configFile: string; csvFile: string }, rate: number, target: TargetName): Promise<CycleStep> {
  const server = await startTarget(target, files, workDir, String(rate));
  try {
    const calls = rate * RUN_SECONDS;
    const cpuBefore = server.cpuSeconds();
    const sipp = await runSipp({
      server: { host: server.host, port: server.udpPort }, scenario: SUBSCRIBE_CYCLE_SCENARIO, csvFile: files.csvFile,
      rate, calls, workDir,
    });
    const serverCpuSeconds = server.cpuSeconds() - cpuBefore;
    return {
      rate, calls,
      successful: sipp.successful,
      failed: sipp.failed,
      retransmissions: sipp.retransmissions,
      sippExitCode: sipp.exitCode,
      achievedRate: round(sipp.callRate),
      serverCpuSeconds: round(serverCpuSeconds),
      cpuMsPerCall: sipp.successful === 0 ? 0 : round((serverCpuSeconds * 1000) / sipp.successful, 3),
      serverDrops: udpDrops([server.udpPort]),
      sippDrops: sipp.drops,
      passed: sipp.exitCode === 0 && sipp.failed === 0 && sipp.retransmissions === 0 && sipp.successful === calls,
      command: sipp.command,
      serverCommand: server.command,
    };
  } finally {
    await server.stop();
  }
}

export async function benchSubscribeCycle(rates: readonly number[] = CYCLE_RATES, target: TargetName = 'presenced'): Promise<Figure<CycleDetails>> {
  const workDir = await makeWorkDir('cycle');
  try {
    const files = writeSippDialplan(workDir);
    const steps: CycleStep[] = [];
    for (const rate of rates) {
      const step = await runCycleStep(workDir, files, rate, target);
      steps.push(step);
      if (!step.passed) break;
    }
    const best = steps.filter((step) => step.passed).at(-1);
    const details: CycleDetails = { rate: best?.rate ?? 0, cpuMsPerCall: best?.cpuMsPerCall, steps };
    const failing = steps.find((step) => !step.passed);
    const cpu = best ? `, ${best.cpuMsPerCall} ms server CPU/call` : '';
    const next = failing
      ? `; at ${failing.rate}/s: ${failing.failed} failed, ${failing.retransmissions} retransmissions, ${failing.successful}/${failing.calls} ok`
      : '';
    return {
      line: `${target === 'presenced' ? '' : `${target} `}subscribe-cycle: ${details.rate} calls/s (${best?.failed ?? 0} failed, ${best?.retransmissions ?? 0} retransmissions)${cpu}${next}`,
      target: `≥ ${TARGET_RATE} calls/s with 0 failed, 0 retransmissions (stretch 7000)`,
      met: details.rate >= TARGET_RATE,
      details,
    };
  } finally {
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  // node dist/bench/subscribe-cycle.js [--peer kamailio] [RATE…]
  const rates = process.argv.slice(2).map(Number).filter((rate) => rate > 0);
  const target = targetArgument();
  const figure = await benchSubscribeCycle(rates.length > 0 ? rates : target === 'presenced' ? CYCLE_RATES : PEER_CYCLE_RATES, target);
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
}
