// Cluster figures: two nodes on one real redis-server (docs/CLUSTER.md). A change made on node A reaches a watcher
// served by node B (cross-node change → NOTIFY, p50/p99 over sequential changes), and one change reaches 10,000
// watchers spread over both nodes (time to the last NOTIFY, set against the same fan-out on one node alone).
// `node dist/bench/cluster.js`
import path from 'node:path';
import { controlRequest } from '../lib/control/control-client.js';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';
import { monotonicMs, sleep } from './lib/clock.js';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { extensionRange, writeHints } from './lib/resources.js';
import { startServer, type ServerProcess } from './lib/server-process.js';
import { percentiles, round, type Percentiles } from './lib/stats.js';
import { Watchers } from './lib/watchers.js';

const PRESENCE = 'cluster';
const FIRST_EXTEN = 300_000;
const HINTS = 1;
const FANOUT_WATCHERS = 10_000;
const LATENCY_CHANGES = 100;
const SUBSCRIBE_RATE = 2000;
const SUBSCRIBE_WINDOW = 200;
/** Lets the journals flush and the per-watcher NOTIFY rate limit pass between changes. */
const QUIET_MS = 1000;
const BURST_TIMEOUT_MS = 60_000;
/** Over the per-watcher NOTIFY rate limit's interval (--notify-rate 5: 200 ms), so that no NOTIFY waits for it. */
const CHANGE_SPACING_MS = 250;

export interface ClusterDetails {
  /** Change on node A (control socket) → NOTIFY at a watcher of node B. */
  crossNodeMs: Percentiles;
  fanout: { watchers: number; perNode: number; received: number; lastMs: number; perSecond: number };
  serverCommands: string[];
}

async function change(dataDir: string, value: string): Promise<void> {
  const answer = await controlRequest(dataDir, { command: 'change', entity: `CustomPresence:${PRESENCE}`, value });
  if (!answer.ok) throw new Error(`change refused: ${answer.error}`);
}

export async function benchCluster(): Promise<Figure<ClusterDetails>> {
  const workDir = await makeWorkDir('cluster');
  let redis: RedisServer | undefined;
  const nodes: ServerProcess[] = [];
  let watchers: Watchers | undefined;
  try {
    redis = await startRedis();
    const extens = extensionRange(FIRST_EXTEN, HINTS);
    const configFile = writeHints(workDir, 'extensions.conf', extens.map((exten) => ({ exten, presence: PRESENCE })));
    const dataDirs = ['a', 'b'].map((node) => path.join(workDir, `data-${node}`));
    for (const [index, dataDir] of dataDirs.entries()) {
      nodes.push(await startServer({ configFile, dataDir, args: ['--store', redis.url(0), '--node-id', `node-${'ab'[index]}`] }));
    }
    const nodeB = nodes[1]!;
    const [dataDirA] = dataDirs as [string, string];
    watchers = await Watchers.start();
    const endpoint = (node: ServerProcess): { host: string; port: number } => ({ host: node.host, port: node.udpPort });

    // Cross-node latency: one watcher on node B, changes made on node A one after another.
    const one = await watchers.subscribe({ server: endpoint(nodeB), extens, each: 1, rate: SUBSCRIBE_RATE, window: SUBSCRIBE_WINDOW });
    if (one.ok !== 1) throw new Error('the latency watcher did not subscribe');
    await sleep(QUIET_MS);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_CHANGES; i++) {
      const armed = await watchers.arm('notify', 1, 10_000);
      const changedAt = monotonicMs();
      await change(dataDirA, i % 2 === 0 ? 'away' : 'dnd');
      const arrived = await armed.result;
      if (arrived.received !== 1) throw new Error(`change ${i} reached no watcher on the other node`);
      latencies.push(arrived.firstAt - changedAt);
      await sleep(CHANGE_SPACING_MS);
    }

    // Fan-out: 10,000 watchers, half on each node, one change on node A.
    const perNode = FANOUT_WATCHERS / 2;
    for (const node of nodes) {
      const subscribed = await watchers.subscribe({ server: endpoint(node), extens, each: perNode, rate: SUBSCRIBE_RATE, window: SUBSCRIBE_WINDOW });
      if (subscribed.ok !== perNode) throw new Error(`only ${subscribed.ok} of ${perNode} watchers subscribed to ${node.command}`);
    }
    await sleep(QUIET_MS);
    const total = FANOUT_WATCHERS + 1;
    const armed = await watchers.arm('notify', total, BURST_TIMEOUT_MS);
    const changedAt = monotonicMs();
    await change(dataDirA, 'xa');
    const notifies = await armed.result;
    const lastMs = notifies.lastAt - changedAt;

    const crossNodeMs = percentiles(latencies);
    const details: ClusterDetails = {
      crossNodeMs: { ...crossNodeMs, p50: round(crossNodeMs.p50), p99: round(crossNodeMs.p99), max: round(crossNodeMs.max) },
      fanout: { watchers: total, perNode, received: notifies.received, lastMs: round(lastMs), perSecond: Math.round((notifies.received * 1000) / lastMs) },
      serverCommands: nodes.map((node) => node.command),
    };
    return {
      line: `cluster (2 nodes, 1 Redis): change on A → NOTIFY from B p50 ${details.crossNodeMs.p50} ms, p99 ${details.crossNodeMs.p99} ms ` +
        `(${LATENCY_CHANGES} changes); one change to ${total} watchers over both nodes: ${notifies.received} NOTIFYs in ${details.fanout.lastMs} ms`,
      target: 'every change reaches every watcher on both nodes',
      met: notifies.received === total,
      details,
    };
  } finally {
    await watchers?.close();
    for (const node of nodes) await node.stop();
    await redis?.close();
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  const figure = await benchCluster();
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
}
