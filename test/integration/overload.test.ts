// Overload control: a bounded flood of new SUBSCRIBEs over UDP pushes the daemon's event-loop lag, or the time
// requests would wait to be handled, over a low threshold; new SUBSCRIBEs then get 503 with Retry-After while a refresh
// and an un-subscribe of an existing dialog are still answered 200, the episode is logged once, and new SUBSCRIBEs are
// accepted again afterwards.
import dgram from 'node:dgram';
import { expect } from 'chai';
import { startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, TcpSipClient, type WatcherDialog } from '../helpers/sip-client.js';

/** New SUBSCRIBEs sent in the flood, in bursts of BURST every few milliseconds: bounded in count and time. */
const FLOOD = 20_000;
const BURST = 200;

interface FloodResult {
  statuses: Map<number, number>;
  retryAfters: string[];
}

/** A raw UDP watcher farm: sends the flood, counts the final responses, answers every NOTIFY 200. */
async function flood(serverPort: number, during: () => Promise<void>): Promise<FloodResult> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  const result: FloodResult = { statuses: new Map(), retryAfters: [] };
  socket.on('message', (data) => {
    const text = data.toString('latin1');
    const status = /^SIP\/2\.0 (\d{3})/.exec(text);
    if (status) {
      if (!/\r\nCSeq: 1 SUBSCRIBE\r\n/i.test(text)) return;
      const code = Number(status[1]);
      if (code < 200) return;
      result.statuses.set(code, (result.statuses.get(code) ?? 0) + 1);
      const retryAfter = /\r\nRetry-After: *([^\r]*)/i.exec(text)?.[1];
      if (code === 503 && retryAfter !== undefined) result.retryAfters.push(retryAfter);
      return;
    }
    if (!text.startsWith('NOTIFY ')) return;
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    const keep = head.split('\r\n').filter((line) => /^(Via|v|From|f|To|t|Call-ID|i|CSeq):/i.test(line));
    socket.send(`SIP/2.0 200 OK\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, serverPort, '127.0.0.1');
  });
  const subscribe = (index: number): string => [
    `SUBSCRIBE sip:6002@127.0.0.1:${serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKflood${index};rport`,
    'Max-Forwards: 70',
    `From: <sip:w${index}@127.0.0.1>;tag=f${index}`,
    `To: <sip:6002@127.0.0.1>`,
    `Call-ID: flood-${index}@127.0.0.1`,
    'CSeq: 1 SUBSCRIBE',
    `Contact: <sip:w${index}@127.0.0.1:${port}>`,
    'Event: presence',
    'Accept: application/pidf+xml',
    'Expires: 60',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
  let duringDone: Promise<void> | undefined;
  for (let sent = 0; sent < FLOOD; sent += BURST) {
    for (let index = sent; index < sent + BURST; index++) socket.send(subscribe(index), serverPort, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 2));
    // Once refusals show that an episode has begun, the existing dialog does its work in the middle of the flood.
    if (duringDone === undefined && (result.statuses.get(503) ?? 0) > 0) duringDone = during();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  duringDone ??= during();
  await duringDone;
  socket.close();
  return result;
}

describe('integration: overload control', function () {
  this.timeout(60000);
  let server: PresenceServer;
  let tcp: TcpSipClient;

  before(async function () {
    // A threshold this low makes the flood an episode on any machine; the default is 200 ms.
    // Queue-delay target off: this test is about the lag (a backlog that long counts as lag).
    server = await startServer({ args: ['--overload-lag', '2', '--overload-delay', '0', '--overload-retry-after', '3', '--max-subscriptions-per-source', '100000', '--max-subscriptions-per-presentity', '100000'] });
    tcp = await TcpSipClient.connect(server.tcpPort);
  });

  after(async function () {
    await tcp?.close();
    await server?.stop();
  });

  it('answers new SUBSCRIBEs 503 with Retry-After while refreshes and un-subscribes of existing dialogs get 200', async function () {
    // A busy machine may already be over 2 ms of lag: the dialog is set up once a SUBSCRIBE gets through.
    let dialog: WatcherDialog | undefined;
    await eventually(async () => {
      const { response, dialog: created } = await tcp.subscribe({ user: '6002' });
      dialog = created;
      return response.status === 200;
    }, 20000, 'a SUBSCRIBE accepted before the flood');
    await dialog!.nextNotify();

    const answers: number[] = [];
    const result = await flood(server.udpPort, async () => {
      answers.push((await dialog!.refresh({ expires: 600 })).status!);
      answers.push((await dialog!.refresh({ expires: 0 })).status!);
    });

    expect(result.statuses.get(503) ?? 0, JSON.stringify([...result.statuses])).to.be.greaterThan(0);
    expect(answers).to.deep.equal([200, 200]);
    for (const retryAfter of result.retryAfters) expect(Number(retryAfter)).to.be.within(3, 6);
    expect(result.retryAfters).to.have.lengthOf(result.statuses.get(503)!);
    // One WARN when an episode starts, one INFO when it ends: never a line per refusal.
    const starts = server.stderr().match(/overload: (event-loop lag \d+ ms is over 2 ms|receive-queue delay \d+ ms is over 2 ms|requests would wait \d+ ms to be handled \(over 2 ms\))/g) ?? [];
    expect(starts.length).to.be.greaterThan(0);
    expect(starts.length).to.be.lessThan(result.statuses.get(503)!);
    expect(server.stderr()).to.not.match(/uncaught|unhandled/i);

    // Afterwards the daemon is back to accepting new SUBSCRIBEs.
    await eventually(async () => (await tcp.subscribe({ user: '6002', expires: 60 })).response.status === 200, 20000, 'a new SUBSCRIBE accepted after the flood');
  });
});

describe('integration: overload control by the wait to be handled', function () {
  this.timeout(60000);
  let server: PresenceServer;

  before(async function () {
    // The lag threshold out of reach, the queue-delay one low: the flood's SUBSCRIBEs would wait far longer than 5 ms
    // behind those already read; only that wait can start the episode.
    server = await startServer({ args: ['--overload-lag', '60000', '--overload-delay', '5', '--overload-retry-after', '3', '--max-subscriptions-per-source', '100000', '--max-subscriptions-per-presentity', '100000'] });
  });

  after(async function () {
    await server?.stop();
  });

  it('answers new SUBSCRIBEs 503 while they would wait longer than --overload-delay, serves the others, and all of them again afterwards', async function () {
    const result = await flood(server.udpPort, async () => undefined);
    const refused = result.statuses.get(503) ?? 0;
    expect(refused, JSON.stringify([...result.statuses])).to.be.greaterThan(0);
    // A share, not everything: the loop keeps serving new watchers while it sheds the excess.
    expect(result.statuses.get(200) ?? 0, JSON.stringify([...result.statuses])).to.be.greaterThan(0);
    expect(server.stderr()).to.match(/overload: requests would wait \d+ ms to be handled \(over 5 ms\): answering new SUBSCRIBEs and PUBLISHes 503 while they would/);
    // The episode ends with the load (its INFO line is under this test's log level): new watchers are all served.
    const client = await TcpSipClient.connect(server.tcpPort);
    try {
      await eventually(async () => (await client.subscribe({ user: '6002', expires: 60 })).response.status === 200, 20000, 'a new SUBSCRIBE accepted after the flood');
    } finally {
      await client.close();
    }
  });
});
