// `npm run fuzz [-- --count N --seconds S]`: mutated SUBSCRIBE, PUBLISH, NOTIFY responses, OPTIONS and PIDF bodies
// over UDP and TCP against the real daemon on 127.0.0.1, bounded in count and time. Then the server must still
// answer, its RSS must be back within twice its start, and the stored canary state must be unchanged.
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type PresenceServer } from '../test/helpers/server.js';
import { UdpSipClient } from '../test/helpers/sip-client.js';

const HOST = '127.0.0.1';
const CANARY = ['change', 'CustomPresence:7000', 'xa,,Fuzz canary'];

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const COUNT = option('count', 200_000);
const SECONDS = option('seconds', 100);
/**
 * How long the server may take to give memory back once the flood is over: the transactions of the flood end with
 * the second Timer J rotation (2 × 32 s) after it, and the compaction that returns their pages follows.
 */
const SETTLE_SECONDS = option('settle', 70);

function tag(): string {
  return randomBytes(4).toString('hex');
}

const PIDF = (inner: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" ' +
  `xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:6002@${HOST}">${inner}</presence>\n`;

/** XML bodies that have broken parsers elsewhere: entity bombs, deep nesting, odd activities, huge attributes. */
const BODIES = [
  PIDF('<tuple id="t"><status><basic>open</basic></status></tuple><dm:person id="p"><rpid:activities><rpid:away/></rpid:activities></dm:person>'),
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><presence>&lol2;</presence>',
  PIDF('<a>'.repeat(2000) + '</a>'.repeat(2000)),
  PIDF('<dm:person id="p"><rpid:activities><rpid:__proto__/><rpid:constructor/><rpid:toString/></rpid:activities></dm:person>'),
  PIDF(`<tuple id="${'x'.repeat(5000)}"><status><basic>closed</basic></status></tuple>`),
  PIDF('<tuple id="t"><status><basic>open</basic></status><note>&#0;&#x1b;[2J</note></tuple>'),
];

function request(method: string, transport: 'UDP' | 'TCP', port: number, headers: string[], body = ''): string {
  const user = method === 'PUBLISH' ? '6002' : ['6002', '2000', '7000', '9999', 'constructor'][randomInt(5)];
  return [
    `${method} sip:${user}@${HOST}:${port} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${HOST}:5999;branch=z9hG4bK${tag()};rport`,
    'Max-Forwards: 70',
    `From: <sip:fuzz@${HOST}>;tag=${tag()}`,
    `To: <sip:${user}@${HOST}>`,
    `Call-ID: ${tag()}@fuzz`,
    `CSeq: ${randomInt(1, 1000)} ${method}`,
    `Contact: <sip:fuzz@${HOST}:5999;transport=${transport.toLowerCase()}>`,
    ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function seed(transport: 'UDP' | 'TCP', port: number): string {
  switch (randomInt(5)) {
    case 0: return request('SUBSCRIBE', transport, port, ['Event: presence', 'Accept: application/pidf+xml', 'Expires: 60']);
    case 1: return request('PUBLISH', transport, port, ['Event: presence', 'Expires: 60', 'Content-Type: application/pidf+xml'], BODIES[randomInt(BODIES.length)]);
    case 2: return request('OPTIONS', transport, port, []);
    case 3: return `SIP/2.0 ${[200, 408, 481, 503][randomInt(4)]} Whatever\r\nVia: SIP/2.0/${transport} ${HOST}:${port};branch=z9hG4bK${tag()}\r\n` +
      `From: <sip:6002@${HOST}>;tag=${tag()}\r\nTo: <sip:fuzz@${HOST}>;tag=${tag()}\r\nCall-ID: ${tag()}\r\nCSeq: ${randomInt(1, 99)} NOTIFY\r\nContent-Length: 0\r\n\r\n`;
    default: return request('SUBSCRIBE', transport, port, ['Event: presence', `Record-Route: <sip:${'r'.repeat(randomInt(1, 3000))}.example;lr>`, 'Expires: 0']);
  }
}

const ODD_VALUES = ['', '\u0000', '__proto__', 'constructor', '%00', '\u001b[2J', '-1', '99999999999999999999', ';;;', '<>', 'x'.repeat(70_000)];

/** One to four mutations of a seed: bytes flipped, inserted, deleted, lines duplicated or dropped, values replaced. */
function mutate(text: string): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  for (let n = randomInt(1, 5); n > 0; n--) {
    const at = randomInt(Math.max(1, bytes.length));
    switch (randomInt(7)) {
      case 0: bytes[at] = randomInt(256); break;
      case 1: bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(randomInt(1, 64)), bytes.subarray(at)]); break;
      case 2: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + randomInt(1, 64)))]); break;
      case 3: bytes = bytes.subarray(0, at); break;
      case 4: {
        const lines = bytes.toString('latin1').split('\r\n');
        const line = randomInt(lines.length);
        lines.splice(line, 0, lines[line]!);
        bytes = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      case 5: {
        const lines = bytes.toString('latin1').split('\r\n');
        const line = randomInt(1, Math.max(2, lines.length));
        const colon = lines[line]?.indexOf(':') ?? -1;
        if (colon > 0) lines[line] = `${lines[line]!.slice(0, colon + 1)} ${ODD_VALUES[randomInt(ODD_VALUES.length)]}`;
        bytes = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      default: bytes = Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    }
  }
  return bytes;
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

async function canary(server: PresenceServer): Promise<string> {
  const listing = await server.cli(['list']);
  return listing.stdout.split('\n').find((line) => line.includes("'CustomPresence:7000'")) ?? '(missing)';
}

/** Sends over a few TCP connections, opening a new one whenever the server closes one (it does on framing errors). */
class TcpSprayer {
  private sockets: net.Socket[] = [];
  constructor(private readonly port: number) {}

  send(data: Buffer): void {
    let socket = this.sockets[randomInt(4)];
    if (!socket || socket.destroyed) {
      socket = net.connect({ host: HOST, port: this.port });
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      this.sockets = [...this.sockets.filter((open) => !open.destroyed), socket].slice(-4);
    }
    if (socket.writableLength < 1024 * 1024) socket.write(data);
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

async function main(): Promise<void> {
  const server = await startServer({ args: ['--max-subscriptions-per-source', '2000'], logLevel: 'error' });
  const failures: string[] = [];
  const udp = dgram.createSocket('udp4');
  const tcp = new TcpSprayer(server.tcpPort);
  try {
    const change = await server.cli(CANARY);
    if (change.code !== 0) throw new Error(`cannot set the canary: ${change.stderr}`);
    const before = await canary(server);
    await sleep(500);
    const startRss = rssKiB(server.pid);
    await new Promise<void>((resolve) => udp.bind(0, HOST, resolve));
    udp.on('message', () => undefined);
    udp.on('error', () => undefined);

    const deadline = Date.now() + SECONDS * 1000;
    let sent = 0;
    let xmlBodies = 0;
    while (sent < COUNT && Date.now() < deadline) {
      for (let i = 0; i < 200 && sent < COUNT; i++, sent++) {
        const overTcp = sent % 4 === 3;
        const message = mutate(seed(overTcp ? 'TCP' : 'UDP', overTcp ? server.tcpPort : server.udpPort));
        if (message.includes('<presence')) xmlBodies++;
        if (overTcp) tcp.send(message);
        else if (message.length < 65_000) udp.send(message, server.udpPort, HOST);
      }
      // Let the kernel and the server breathe: the point is junk, not a flood test.
      await sleep(1);
    }
    const seconds = Math.round((SECONDS * 1000 - (deadline - Date.now())) / 1000);
    process.stdout.write(`fuzz: sent ${sent.toLocaleString('en-US')} mutated messages (${xmlBodies.toLocaleString('en-US')} with XML bodies) in ${seconds} s\n`);
    tcp.close();

    const client = await UdpSipClient.open(server.udpPort);
    try {
      // Over UDP the kernel drops what arrives while the server's buffer is full, the probe too: it retransmits.
      const { response, transmissions } = await client.requestRetransmitting(client.buildRequest('OPTIONS'));
      process.stdout.write(`fuzz: OPTIONS answered ${response.status} after ${transmissions} transmission(s)\n`);
      if (response.status !== 200) failures.push(`OPTIONS after the fuzz got ${response.status}`);
    } catch (error) {
      failures.push(`the server no longer answers: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await client.close();
    }
    const after = await canary(server);
    if (after !== before) failures.push(`the stored state changed:\n  before: ${before}\n  after:  ${after}`);
    let rss = rssKiB(server.pid);
    for (const settleBy = Date.now() + SETTLE_SECONDS * 1000; rss > 2 * startRss && Date.now() < settleBy; rss = rssKiB(server.pid)) await sleep(1000);
    process.stdout.write(`fuzz: RSS ${Math.round(startRss / 1024)} MiB at start, ${Math.round(rss / 1024)} MiB after\n`);
    if (rss > 2 * startRss) failures.push(`RSS is ${rss} KiB, more than twice the ${startRss} KiB at start`);
    const status = await server.stop();
    if (status.code !== 0) failures.push(`the server stopped with ${JSON.stringify(status)}\n${server.stderr().slice(-2000)}`);
  } finally {
    udp.close();
    await server.stop();
  }
  if (failures.length > 0) {
    process.stderr.write(`fuzz: FAILED\n${failures.map((failure) => `  ${failure}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write('fuzz: the server answers, its memory is back and the stored state is unchanged\n');
}

await main();
