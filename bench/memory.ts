// Figure 4: server RSS growth per idle subscription, at 100,000 subscriptions (10,000 hints × 10 watchers).
import path from 'node:path';
import { sleep } from './lib/clock.js';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { rssBytes } from './lib/proc.js';
import { extensionRange, writeHints } from './lib/resources.js';
import { startServer, type ServerProcess } from './lib/server-process.js';
import { round, type Percentiles } from './lib/stats.js';
import { Watchers } from './lib/watchers.js';

export const IDLE_SUBSCRIPTIONS = 100_000;
const HINTS = 10_000;
const SUBSCRIBE_RATE = 5000;
const SUBSCRIBE_WINDOW = 200;
/** After start: lets the store open and the heap settle. */
const SETTLE_MS = 5000;
/**
 * After the last initial NOTIFY: an idle subscription is one with no transaction left. SUBSCRIBE responses are kept
 * for retransmissions for Timer J (64·T1 = 32 s; the cache rotates, so up to 64 s), so the measurement waits past that.
 */
const IDLE_MS = 70_000;
const TARGET_BYTES = 1024;

/** The subscribed server and its watchers, handed on to the restart figure. */
export interface Population {
  workDir: string;
  configFile: string;
  dataDir: string;
  /** The running server; the restart figure replaces it. */
  server: ServerProcess;
  readonly watchers: Watchers;
  readonly subscriptions: number;
  /** Stops the watchers and the current server, and removes the directory. */
  close(): Promise<void>;
}

export interface MemoryDetails {
  subscriptions: number;
  failed: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerSubscription: number;
  subscribeSeconds: number;
  /** SUBSCRIBE → 200 as the watchers saw it, at the paced rate. */
  subscribeLatencyMs: Percentiles;
  /** What the server logged when it gave memory back after the burst. */
  heapCompactions: string[];
  serverCommand: string;
}

export async function benchMemory(count = IDLE_SUBSCRIPTIONS): Promise<{ figure: Figure<MemoryDetails>; population: Population }> {
  const workDir = await makeWorkDir('memory');
  const extens = extensionRange(100_000, HINTS);
  const configFile = writeHints(workDir, 'extensions.conf', extens.map((exten) => ({ exten, presence: exten })));
  const dataDir = path.join(workDir, 'data');
  let population: Population | undefined;
  let server: ServerProcess | undefined;
  let watchers: Watchers | undefined;
  try {
    // At info level the server logs when it compacts its heap after the burst (lib/util/memory.ts).
    server = await startServer({ configFile, dataDir, logLevel: 'info' });
    watchers = await Watchers.start();
    await sleep(SETTLE_MS);
    const before = rssBytes(server.pid);
    const subscribed = await watchers.subscribe({
      server: { host: server.host, port: server.udpPort }, extens, each: Math.ceil(count / HINTS),
      rate: SUBSCRIBE_RATE, window: SUBSCRIBE_WINDOW,
    });
    await sleep(IDLE_MS);
    const after = rssBytes(server.pid);
    const details: MemoryDetails = {
      subscriptions: subscribed.ok,
      failed: subscribed.failed,
      rssBeforeBytes: before,
      rssAfterBytes: after,
      bytesPerSubscription: Math.round((after - before) / subscribed.ok),
      subscribeSeconds: round(subscribed.elapsedMs / 1000, 1),
      subscribeLatencyMs: subscribed.latencyMs,
      heapCompactions: server.stderr().split('\n').filter((line) => line.includes('compacted the heap')),
      serverCommand: server.command,
    };
    const mib = (bytes: number): string => `${round(bytes / 2 ** 20, 1)} MiB`;
    const figure: Figure<MemoryDetails> = {
      line: `memory: ${details.bytesPerSubscription} bytes RSS/subscription (${mib(before)} → ${mib(after)} with ` +
        `${subscribed.ok} idle subscriptions, ${subscribed.failed} failed)`,
      target: `≤ ${TARGET_BYTES} bytes per idle subscription`,
      met: subscribed.failed === 0 && details.bytesPerSubscription <= TARGET_BYTES,
      details,
    };
    population = {
      workDir, configFile, dataDir, server, watchers, subscriptions: subscribed.ok,
      close: async () => {
        await watchers?.close();
        await population?.server.stop();
        await removeWorkDir(workDir);
      },
    };
    return { figure, population };
  } catch (error) {
    await watchers?.close();
    await server?.stop();
    await removeWorkDir(workDir);
    throw error;
  }
}

if (isMain(import.meta.url)) {
  const { figure, population } = await benchMemory();
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
  await population.close();
}
