// Figure 5: restart with 100,000 persisted subscriptions: SIGTERM, start again on the same data directory, and time
// the spawn → listening line (printed once the subscriptions are restored). The watchers stay up to answer the
// NOTIFYs the restored subscriptions send.
import { monotonicMs } from './lib/clock.js';
import { isMain, type Figure } from './lib/figure.js';
import { udpDrops } from './lib/proc.js';
import { startServer } from './lib/server-process.js';
import { round } from './lib/stats.js';
import { benchMemory, type Population } from './memory.js';

const TARGET_MS = 5000;
const NOTIFY_TIMEOUT_MS = 120_000;
const RESTORED_LINE = /restored (\d+) subscription/;

export interface RestartDetails {
  subscriptions: number;
  /** SIGTERM → exit (the journal's last write and the store's close). */
  stopMs: number;
  /** Spawn → listening line. */
  startupMs: number;
  /** The same for the first start, with no subscriptions: what Node and the dialplan cost alone. */
  emptyStartupMs: number;
  /** What the daemon logged as restored. */
  restored: number | undefined;
  /** NOTIFYs the restored subscriptions sent, and when the last one arrived (after the listening line). */
  notifies: { received: number; repeats: number; lastAfterListeningMs: number };
  /** Kernel drops on the restarted server's socket (watchers' 200s) until the last restored NOTIFY. */
  serverDrops: number;
  serverCommand: string;
}

/** Restarts the population's server in place (the population keeps the new one, so close() still stops it). */
export async function benchRestart(population: Population): Promise<Figure<RestartDetails>> {
  const { server, watchers, subscriptions } = population;
  const notifyArmed = await watchers.arm('notify', subscriptions, NOTIFY_TIMEOUT_MS);
  const stopMs = await server.stop('SIGTERM');
  const restarted = await startServer({
    configFile: population.configFile, dataDir: population.dataDir, udp: `${server.host}:${server.udpPort}`, logLevel: 'info',
  });
  population.server = restarted;
  const listeningAt = monotonicMs();
  const notifies = await notifyArmed.result;
  const restored = RESTORED_LINE.exec(restarted.stderr())?.[1];
  const details: RestartDetails = {
    subscriptions,
    stopMs: round(stopMs, 0),
    startupMs: round(restarted.startupMs, 0),
    emptyStartupMs: round(server.startupMs, 0),
    restored: restored === undefined ? undefined : Number(restored),
    notifies: {
      received: notifies.received,
      repeats: notifies.repeats,
      lastAfterListeningMs: notifies.received === 0 ? 0 : round(notifies.lastAt - listeningAt, 0),
    },
    serverDrops: udpDrops([restarted.udpPort]),
    serverCommand: restarted.command,
  };
  return {
    line: `restart: ${details.startupMs} ms to listening with ${details.restored ?? '?'}/${subscriptions} subscriptions restored ` +
      `(empty start ${details.emptyStartupMs} ms, stop ${details.stopMs} ms; ${notifies.received} restored NOTIFYs answered, the last ` +
      `${details.notifies.lastAfterListeningMs} ms after listening, ${notifies.repeats} retransmitted)`,
    target: `< ${TARGET_MS} ms from start to serving`,
    met: details.restored === subscriptions && details.startupMs < TARGET_MS,
    details,
  };
}

if (isMain(import.meta.url)) {
  const { figure, population } = await benchMemory();
  console.log(figure.line);
  try {
    const restart = await benchRestart(population);
    console.log(restart.line);
    console.log(JSON.stringify(restart.details, null, 2));
  } finally {
    await population.close();
  }
}
