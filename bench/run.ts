// `npm run bench`: installs SIPp if it is missing, measures every figure in order (each bounded in count and time),
// prints one line per figure and writes them all to bench-results/results.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchFanout, FANOUT_CASES } from './fanout.js';
import type { Figure } from './lib/figure.js';
import { describeMachine, loadAverage, type Machine } from './lib/machine.js';
import { round } from './lib/stats.js';
import { benchLatency } from './latency.js';
import { benchListBuild } from './list-build.js';
import { benchMemory, type Population } from './memory.js';
import { benchPanel } from './panel.js';
import { benchParse } from './parse.js';
import { benchRestart } from './restart.js';
import { benchCluster } from './cluster.js';
import { benchOverload, OVERLOAD_FACTORS } from './overload.js';
import { benchSubscribeCycle, PEER_CYCLE_RATES } from './subscribe-cycle.js';
import { targetArgument } from './lib/target.js';
import { benchWsCycle, benchWsFanout } from './websocket.js';

const RESULTS_FILE = path.join('bench-results', 'results.json');
/** The whole run takes 1½–2½ minutes; past this something hangs. */
const RUN_LIMIT_MS = 15 * 60_000;
const PARSE_TARGET = 150_000;

interface Results {
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  machine: Machine;
  /** 1/5/15-minute load averages before and after: other work on the machine skews every figure. */
  loadBefore: number[];
  loadAfter?: number[];
  figures: Record<string, Figure<unknown> | { error: string }>;
}

async function parseFigure(): Promise<Figure<{ perSecond: number }>> {
  const { perSecond } = benchParse(2);
  return { line: `parse: ${perSecond} SUBSCRIBE/s`, target: `≥ ${PARSE_TARGET} SUBSCRIBE/s`, met: perSecond >= PARSE_TARGET, details: { perSecond } };
}

/** `--peer kamailio` also wants the PostgreSQL server Kamailio keeps its tables in (`--bench`). */
function installDependencies(): void {
  const install = spawnSync('bash', ['scripts/install-deps.sh', ...(process.argv.includes('--peer') ? ['--bench'] : [])], { stdio: 'inherit' });
  if (install.status !== 0) console.error('bench: scripts/install-deps.sh failed; the SIPp figures will fail without sipp');
}

const startedAt = Date.now();
setTimeout(() => {
  console.error(`bench: still running after ${RUN_LIMIT_MS / 60_000} minutes; giving up`);
  process.exit(1);
}, RUN_LIMIT_MS).unref();

installDependencies();
const peer = targetArgument();
const results: Results = { startedAt: new Date(startedAt).toISOString(), machine: describeMachine(), loadBefore: loadAverage(), figures: {} };
const { machine } = results;
console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, ${machine.sipp}, load ${results.loadBefore.join(' ')}`);

function save(): void {
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
}

/** `reference`: a peer's figure, printed for comparison and not judged against presenced's targets. */
async function measure(name: string, run: () => Promise<Figure<unknown>>, reference = false): Promise<void> {
  try {
    const figure = await run();
    results.figures[name] = figure;
    console.log(reference ? `${figure.line}  [reference]` : `${figure.line}  [target ${figure.target}: ${figure.met ? 'met' : 'MISSED'}]`);
  } catch (error) {
    results.figures[name] = { error: (error as Error).message };
    console.log(`${name}: ERROR ${(error as Error).message}`);
  }
  save();
}

await measure('parse', parseFigure);
let capacity: number | undefined;
let cpuMsPerCall: number | undefined;
await measure('subscribe-cycle', async () => {
  const cycle = await benchSubscribeCycle();
  capacity = cycle.details.rate || undefined;
  cpuMsPerCall = cycle.details.cpuMsPerCall;
  return cycle;
});
// Offered above the capacity just measured (its clean rate), each factor on a fresh server.
await measure('overload', () => benchOverload(capacity));
// --peer kamailio: the same scenario at the same rates against Kamailio's presence module, each step on a fresh one.
if (peer === 'kamailio') {
  let peerCapacity: number | undefined;
  let peerCpuMsPerCall: number | undefined;
  await measure('kamailio-subscribe-cycle', async () => {
    const cycle = await benchSubscribeCycle(PEER_CYCLE_RATES, 'kamailio');
    peerCapacity = cycle.details.rate;
    peerCpuMsPerCall = cycle.details.cpuMsPerCall;
    return cycle;
  }, true);
  await measure('kamailio-overload', () => benchOverload(capacity, OVERLOAD_FACTORS, 'kamailio'), true);
  if (capacity && peerCapacity) {
    const cpu = cpuMsPerCall && peerCpuMsPerCall ? `; CPU per call ${round(cpuMsPerCall / peerCpuMsPerCall, 2)}× Kamailio's (${cpuMsPerCall} vs ${peerCpuMsPerCall} ms)` : '';
    console.log(`peer: presenced's clean capacity is ${round(capacity / peerCapacity, 2)}× Kamailio's (${capacity} vs ${peerCapacity} calls/s)${cpu}`);
  }
}
await measure('cluster', () => benchCluster());
for (const fanout of FANOUT_CASES) await measure(fanout.name, () => benchFanout(fanout));
let population: Population | undefined;
await measure('memory', async () => {
  const measured = await benchMemory();
  population = measured.population;
  return measured.figure;
});
await measure('restart', () => {
  if (!population) throw new Error('needs the memory figure\'s subscriptions');
  return benchRestart(population);
});
await population?.close();
await measure('latency', () => benchLatency());
await measure('list-build', () => benchListBuild());
await measure('websocket-cycle', () => benchWsCycle());
await measure('fanout-ws-10000', () => benchWsFanout());
await measure('panel', () => benchPanel());

results.finishedAt = new Date().toISOString();
results.seconds = round((Date.now() - startedAt) / 1000, 0);
results.loadAfter = loadAverage();
save();
console.log(`bench: ${results.seconds} s, load ${results.loadAfter.join(' ')}; all figures in ${RESULTS_FILE}`);
process.exit(0);
