// Figure 7: the presence panel's HTTP API — PUT → NOTIFY on the wire (p50/p99, one UDP watcher), API changes per
// second (16 clients in parallel, each change durable before its answer), and one change fanned out to 1,000 open
// event streams (from the PUT to the last stream holding the event).
import http from 'node:http';
import path from 'node:path';
import { monotonicMs } from './lib/clock.js';
import { isMain, makeWorkDir, removeWorkDir, type Figure } from './lib/figure.js';
import { startServer, type ServerProcess } from './lib/server-process.js';
import { SipUserAgent } from './lib/sip-ua.js';
import { percentiles, round, type Percentiles } from './lib/stats.js';

const LATENCY_SAMPLES = 300;
const CHANGES = 2000;
const CLIENTS = 16;
const STREAMS = 1000;
const TARGETS = { notifyP99Ms: 20, changesPerSecond: 500, fanoutMs: 250 };
const AUTHORIZATION = `Basic ${Buffer.from('admin:admin-demo-secret').toString('base64')}`;

export interface PanelDetails {
  putToNotifyMs: Percentiles;
  changes: number;
  clients: number;
  changesPerSecond: number;
  streams: number;
  fanoutMs: number;
  serverCommand: string;
}

function put(port: number, name: string, body: unknown, agent: http.Agent): Promise<number> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, method: 'PUT', path: `/api/v1/presence/${name}`, agent,
      headers: { authorization: AUTHORIZATION, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
    }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
    request.end(text);
  });
}

async function putToNotify(server: ServerProcess, agent: http.Agent): Promise<Percentiles> {
  let notified: ((at: number) => void) | undefined;
  const ua = await SipUserAgent.open({ notify: (_bytes, repeat, at) => { if (!repeat) notified?.(at); }, raw: () => undefined });
  try {
    const first = new Promise<number>((resolve) => (notified = resolve));
    const outcome = await ua.subscribe({ host: server.host, port: server.udpPort }, '6001', 3600);
    if (outcome.status !== 200) throw new Error(`SUBSCRIBE answered ${outcome.status}`);
    await first;
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const arrived = new Promise<number>((resolve) => (notified = resolve));
      const sentAt = monotonicMs();
      const status = await put(server.httpPort, '6001', { state: i % 2 === 0 ? 'away' : 'available', message: `sample ${i}` }, agent);
      if (status !== 200) throw new Error(`PUT answered ${status}`);
      samples.push((await arrived) - sentAt);
    }
    return percentiles(samples.map((ms) => round(ms, 2)));
  } finally {
    await ua.close();
  }
}

async function changesPerSecond(server: ServerProcess, agent: http.Agent): Promise<number> {
  let next = 0;
  const startedAt = monotonicMs();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
    for (let i = next++; i < CHANGES; i = next++) {
      const status = await put(server.httpPort, `bench${client}`, { state: i % 2 === 0 ? 'dnd' : 'available' }, agent);
      if (status !== 200) throw new Error(`PUT answered ${status}`);
    }
  }));
  return round(CHANGES / ((monotonicMs() - startedAt) / 1000), 0);
}

async function fanout(server: ServerProcess, agent: http.Agent): Promise<number> {
  const requests: http.ClientRequest[] = [];
  let received = 0;
  let allReceived: (() => void) | undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  try {
    await Promise.all(Array.from({ length: STREAMS }, () => new Promise<void>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port: server.httpPort, path: '/api/v1/events', agent: false, headers: { authorization: AUTHORIZATION } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`events answered ${response.statusCode}`));
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => {
          if (text === 'seen') return;
          text += chunk;
          if (text.includes('"fanout"')) {
            text = 'seen';
            if (++received === STREAMS) allReceived?.();
          }
        });
        resolve();
      });
      request.once('error', reject);
      requests.push(request);
    })));
    const sentAt = monotonicMs();
    await put(server.httpPort, '6002', { state: 'away', message: 'fanout' }, agent);
    await done;
    return round(monotonicMs() - sentAt, 1);
  } finally {
    for (const request of requests) request.destroy();
  }
}

export async function benchPanel(): Promise<Figure<PanelDetails>> {
  const workDir = await makeWorkDir('panel');
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const server = await startServer({
      configFile: path.resolve('fixtures/extensions.conf'), dataDir: path.join(workDir, 'data'),
      args: ['--http', '127.0.0.1:0', '--ami', '127.0.0.1:0', '--ami-config', path.resolve('fixtures/manager.conf'), '--notify-rate', '100000'],
    });
    try {
      const putToNotifyMs = await putToNotify(server, agent);
      const perSecond = await changesPerSecond(server, agent);
      const fanoutMs = await fanout(server, agent);
      const details: PanelDetails = {
        putToNotifyMs, changes: CHANGES, clients: CLIENTS, changesPerSecond: perSecond, streams: STREAMS, fanoutMs, serverCommand: server.command,
      };
      return {
        line: `panel: PUT → NOTIFY p50 ${putToNotifyMs.p50} ms, p99 ${putToNotifyMs.p99} ms; ${perSecond} changes/s (${CLIENTS} clients); ` +
          `one change to ${STREAMS} event streams in ${fanoutMs} ms`,
        target: `p99 ≤ ${TARGETS.notifyP99Ms} ms, ≥ ${TARGETS.changesPerSecond} changes/s, ${STREAMS} streams ≤ ${TARGETS.fanoutMs} ms`,
        met: putToNotifyMs.p99 <= TARGETS.notifyP99Ms && perSecond >= TARGETS.changesPerSecond && fanoutMs <= TARGETS.fanoutMs,
        details,
      };
    } finally {
      await server.stop();
    }
  } finally {
    agent.destroy();
    await removeWorkDir(workDir);
  }
}

if (isMain(import.meta.url)) {
  const figure = await benchPanel();
  console.log(figure.line);
  console.log(JSON.stringify(figure.details, null, 2));
}
