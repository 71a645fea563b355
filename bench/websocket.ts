// SIP over WebSocket (RFC 7118) figures, set beside the UDP ones: (a) the SUBSCRIBE→NOTIFY cycle of figure 2 (SUBSCRIBE,
// 200, NOTIFY, 200, SUBSCRIBE Expires 0, 200, NOTIFY, 200) run by many sockets at once, as calls/s and the server's CPU
// per call; (b) one state change fanned out to 10,000 WebSocket watchers, one socket each. The client side is one Node
// process on the same two CPUs, so both are lower bounds of what the server alone could do.
// `node dist/bench/websocket.js [cycle|fanout]` measures one of them.
import path from 'node:path';
import { controlRequest } from '../lib/control/control-client.js';
import { monotonicMs, sleep } from './lib/clock.js';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { cpuSeconds } from './lib/proc.js';
import { extensionRange, writeHints } from './lib/resources.js';
import { startServer, type ServerProcess } from './lib/server-process.js';
import { round } from './lib/stats.js';
import { WsUa } from './lib/ws-ua.js';

/** Each call waits out the per-watcher NOTIFY rate (--notify-rate, 5/s) between its two NOTIFYs: many sockets keep the server busy. */
const CYCLE_SOCKETS = 1000;
const CYCLE_HINTS = 1000;
const CYCLE_WARMUP_MS = 2000;
const CYCLE_MEASURED_MS = 10_000;
const CYCLE_TARGET = 1000;
const FANOUT_WATCHERS = 10_000;
const CONNECT_WINDOW = 200;
const QUIET_MS = 1000;
const FANOUT_TIMEOUT_MS = 60_000;
const FANOUT_TARGET_MS = 1000;
/** The UDP figures of the same machine (docs/PERFORMANCE.md, figures 2 and 3a), for the line. */
const UDP_CYCLE = '4,000-5,000 calls/s, 0.17-0.20 ms CPU/call over UDP with SIPp';
const UDP_FANOUT = 'UDP: 252-254 ms';

async function startWsServer(workDir: string, hints: Array<{ exten: string; presence: string }>): Promise<{ server: ServerProcess; dataDir: string; url: string }> {
  const configFile = writeHints(workDir, 'extensions.conf', hints);
  const dataDir = path.join(workDir, 'data');
  const server = await startServer({
    configFile, dataDir,
    args: ['--ws', '127.0.0.1:0', '--ws-max-connections', String(FANOUT_WATCHERS * 2), '--ws-max-per-address', String(FANOUT_WATCHERS * 2)],
  });
  return { server, dataDir, url: `ws://127.0.0.1:${server.wsPort}/ws` };
}

/** Opens `count` sockets, CONNECT_WINDOW handshakes at a time. */
async function connectAll(url: string, count: number): Promise<WsUa[]> {
  const agents: WsUa[] = [];
  for (let first = 0; first < count; first += CONNECT_WINDOW) {
    const batch = Array.from({ length: Math.min(CONNECT_WINDOW, count - first) }, () => WsUa.connect(url, '127.0.0.1'));
    agents.push(...await Promise.all(batch));
  }
  return agents;
}

/** Resolves each dialog's next NOTIFY (the first, or the final one) as it arrives. */
class NotifyWaits {
  private readonly waits = new Map<string, () => void>();
  constructor(agents: WsUa[]) {
    for (const agent of agents) agent.onNotify = ({ callId, terminated }) => this.waits.get(`${callId}/${terminated}`)?.();
  }
  next(callId: string, terminated: boolean): Promise<void> {
    return new Promise((resolve) => this.waits.set(`${callId}/${terminated}`, () => {
      this.waits.delete(`${callId}/${terminated}`);
      resolve();
    }));
  }
}

export interface WsCycleDetails { sockets: number; calls: number; failed: number; callsPerSecond: number; serverCpuMsPerCall: number; clientCpuMsPerCall: number; serverCommand: string }

export async function benchWsCycle(): Promise<Figure<WsCycleDetails>> {
  const workDir = await makeWorkDir('ws-cycle');
  let server: ServerProcess | undefined;
  let agents: WsUa[] = [];
  try {
    const extens = extensionRange(100_000, CYCLE_HINTS);
    const started = await startWsServer(workDir, extens.map((exten) => ({ exten, presence: exten })));
    server = started.server;
    agents = await connectAll(started.url, CYCLE_SOCKETS);
    const notifies = new NotifyWaits(agents);
    const startedAt = monotonicMs();
    const measureFrom = startedAt + CYCLE_WARMUP_MS;
    const end = measureFrom + CYCLE_MEASURED_MS;
    let calls = 0;
    let failed = 0;
    let serverCpuAtStart = 0;
    let clientCpuAtStart = process.cpuUsage();
    let sequence = 0;
    const measuring = sleep(CYCLE_WARMUP_MS).then(() => {
      serverCpuAtStart = cpuSeconds(server!.pid);
      clientCpuAtStart = process.cpuUsage();
    });
    await Promise.all(agents.map(async (agent, index) => {
      while (monotonicMs() < end) {
        const callId = `c${index}-${sequence++}`;
        const exten = extens[sequence % extens.length]!;
        const first = notifies.next(callId, false);
        const answer = await agent.subscribe(exten, callId, 1, 60);
        if (answer.status !== 200) {
          failed++;
          continue;
        }
        await first;
        const final = notifies.next(callId, true);
        await agent.subscribe(exten, callId, 2, 0, answer.toTag);
        await final;
        if (monotonicMs() >= measureFrom && monotonicMs() < end) calls++;
      }
    }));
    await measuring;
    const serverCpuMs = (cpuSeconds(server.pid) - serverCpuAtStart) * 1000;
    const clientCpu = process.cpuUsage(clientCpuAtStart);
    const details: WsCycleDetails = {
      sockets: CYCLE_SOCKETS,
      calls,
      failed,
      callsPerSecond: Math.round((calls * 1000) / CYCLE_MEASURED_MS),
      serverCpuMsPerCall: round(serverCpuMs / Math.max(1, calls), 3),
      clientCpuMsPerCall: round((clientCpu.user + clientCpu.system) / 1000 / Math.max(1, calls), 3),
      serverCommand: server.command,
    };
    return {
      line: `subscribe cycle over WebSocket (${CYCLE_SOCKETS} sockets): ${details.callsPerSecond} calls/s, ${details.serverCpuMsPerCall} ms server CPU/call ` +
        `(client ${details.clientCpuMsPerCall} ms), ${failed} failed; ${UDP_CYCLE}`,
      target: `≥ ${CYCLE_TARGET} calls/s, 0 failed`,
      met: details.callsPerSecond >= CYCLE_TARGET && failed === 0,
      details,
    };
  } finally {
    for (const agent of agents) agent.close();
    await server?.stop();
    await removeWorkDir(workDir);
  }
}

export interface WsFanoutDetails { watchers: number; subscribeMs: number; received: number; firstMs: number; lastMs: number; perSecond: number; serverCpuMs: number; serverCommand: string }

export async function benchWsFanout(): Promise<Figure<WsFanoutDetails>> {
  const workDir = await makeWorkDir('ws-fanout');
  let server: ServerProcess | undefined;
  let agents: WsUa[] = [];
  try {
    const started = await startWsServer(workDir, [{ exten: '200000', presence: 'fanout' }]);
    server = started.server;
    const subscribeStarted = monotonicMs();
    agents = await connectAll(started.url, FANOUT_WATCHERS);
    const notifies = new NotifyWaits(agents);
    for (let first = 0; first < agents.length; first += CONNECT_WINDOW) {
      await Promise.all(agents.slice(first, first + CONNECT_WINDOW).map(async (agent, i) => {
        const callId = `f${first + i}`;
        const notified = notifies.next(callId, false);
        const answer = await agent.subscribe('200000', callId, 1, 3600);
        if (answer.status !== 200) throw new Error(`fan-out watcher ${callId}: SUBSCRIBE answered ${answer.status}`);
        await notified;
      }));
    }
    const subscribeMs = monotonicMs() - subscribeStarted;
    await sleep(QUIET_MS);
    let received = 0;
    let firstAt = 0;
    let lastAt = 0;
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received} of ${FANOUT_WATCHERS} NOTIFYs in ${FANOUT_TIMEOUT_MS} ms`)), FANOUT_TIMEOUT_MS);
      for (const agent of agents) {
        agent.onNotify = () => {
          lastAt = monotonicMs();
          if (++received === 1) firstAt = lastAt;
          if (received === FANOUT_WATCHERS) {
            clearTimeout(timer);
            resolve();
          }
        };
      }
    });
    const cpuBefore = cpuSeconds(server.pid);
    const changedAt = monotonicMs();
    const answer = await controlRequest(started.dataDir, { command: 'change', entity: 'CustomPresence:fanout', value: 'away' });
    if (!answer.ok) throw new Error(`change refused: ${answer.error}`);
    await all;
    const details: WsFanoutDetails = {
      watchers: FANOUT_WATCHERS,
      subscribeMs: round(subscribeMs, 0),
      received,
      firstMs: round(firstAt - changedAt),
      lastMs: round(lastAt - changedAt),
      perSecond: Math.round((received * 1000) / (lastAt - changedAt)),
      serverCpuMs: round((cpuSeconds(server.pid) - cpuBefore) * 1000, 0),
      serverCommand: server.command,
    };
    return {
      line: `fan-out to ${FANOUT_WATCHERS} WebSocket watchers (one socket each): ${received} NOTIFYs, last after ${details.lastMs} ms ` +
        `(${details.perSecond}/s), server CPU ${details.serverCpuMs} ms; ${UDP_FANOUT}`,
      target: `every watcher notified, the last within ${FANOUT_TARGET_MS} ms`,
      met: received === FANOUT_WATCHERS && details.lastMs <= FANOUT_TARGET_MS,
      details,
    };
  } finally {
    for (const agent of agents) agent.close();
    await server?.stop();
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  const named = process.argv.slice(2);
  for (const [name, run] of [['cycle', benchWsCycle], ['fanout', benchWsFanout]] as const) {
    if (named.length > 0 && !named.includes(name)) continue;
    const figure = await run();
    console.log(figure.line);
    console.log(JSON.stringify(figure.details, null, 2));
  }
}
