// Webhooks over real sockets: the daemon POSTs every presence and device change as JSON to each --webhook URL of a
// local receiver. One URL answers at once, one fails first (503) and then takes the retry, one never answers its
// first request (abandoned after --webhook-timeout, then retried), one refuses (400: dropped, not retried), and one
// holds every request (each try abandoned at the timeout) until the test lets go — meanwhile SIP watchers, the CLI and the API are answered, and past
// --webhook-queue the oldest waiting change is dropped and logged once.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ApiClient } from '../helpers/http-client.js';
import { makeTempDir, removeDir, runProgram, startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';

const ADMIN: [string, string] = ['supervisor', 'super-secret'];
const QUEUE = 3;

interface Received { path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown>; answered: boolean; abandoned: boolean }

/** A local HTTP receiver whose paths behave as the header comment says. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly held: http.ServerResponse[] = [];
  private holding = true;
  private readonly server = http.createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
      const received: Received = { path: request.url ?? '', headers: request.headers, body: JSON.parse(text) as Record<string, unknown>, answered: false, abandoned: false };
      this.requests.push(received);
      response.once('close', () => (received.abandoned = !received.answered));
      const earlier = this.requests.filter((other) => other.path === received.path).length - 1;
      const answer = (status: number): void => {
        received.answered = true;
        response.writeHead(status).end();
      };
      switch (received.path) {
        case '/ok': return answer(204);
        case '/flaky': return answer(earlier === 0 ? 503 : 200);
        case '/refuse': return answer(400);
        case '/hang': return earlier === 0 ? undefined : answer(200);
        case '/held':
          if (!this.holding) return answer(200);
          this.held.push(response);
          received.answered = true;
          return undefined;
      }
    });
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  at(path: string): Received[] {
    return this.requests.filter((request) => request.path === path);
  }

  release(): void {
    this.holding = false;
    for (const response of this.held.splice(0)) response.writeHead(200).end();
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('integration: webhooks', function () {
  this.timeout(30000);
  const receiver = new Receiver();
  let server: PresenceServer;
  let url: (path: string) => string;

  before(async function () {
    const port = await receiver.listen();
    url = (path) => `http://127.0.0.1:${port}${path}`;
    server = await startServer({
      amiConfig: 'fixtures/http/manager.conf',
      args: ['--http', '127.0.0.1:0', '--webhook', ['/ok', '/flaky', '/hang', '/refuse', '/held'].map(url).join(','),
        '--webhook-timeout', '1', '--webhook-queue', String(QUEUE)],
    });
  });
  after(async function () {
    await server?.stop();
    await receiver.close();
  });

  it('POSTs each presence and device change as JSON, in order, with an id and a time', async function () {
    expect((await server.cli(['change', 'CustomPresence:6002', 'away,,Lunch'])).code).to.equal(0);
    expect((await server.devicestate(['change', 'Custom:2000', 'INUSE'])).code).to.equal(0);
    await eventually(() => receiver.at('/ok').length === 2, 5000, 'two webhook requests');
    const [presence, device] = receiver.at('/ok');
    expect(presence.headers['content-type']).to.equal('application/json');
    expect(presence.headers['user-agent']).to.match(/^presenced\/\d/);
    expect(presence.body).to.deep.include({ event: 'presence', name: '6002', state: 'away', subtype: '', message: 'Lunch', source: 'cli' });
    expect(device.body).to.deep.include({ event: 'device', device: 'Custom:2000', state: 'INUSE' });
    expect(presence.body.id).to.be.a('string').and.not.equal(device.body.id);
    expect(new Date(presence.body.time as string).toString()).not.to.equal('Invalid Date');
  });

  it('tries a failed POST again after a delay with the same id, and the changes behind it wait their turn', async function () {
    await eventually(() => receiver.at('/flaky').length === 3, 10000, 'the retry and the next change');
    const [failed, retried, next] = receiver.at('/flaky');
    expect(retried.body).to.deep.equal(failed.body);
    expect(next.body.event).to.equal('device');
    expect(server.stderr()).to.match(/webhook: http:\/\/127\.0\.0\.1:\d+\/flaky: answered 503; trying again in 1 s/);
  });

  it('abandons a POST not answered within --webhook-timeout and tries it again', async function () {
    await eventually(() => receiver.at('/hang').length >= 2, 10000, 'the retry after the timeout');
    const [hung, retried] = receiver.at('/hang');
    await eventually(() => hung.abandoned, 5000, 'the abandoned request closed');
    expect(retried.body).to.deep.equal(hung.body);
    expect(server.stderr()).to.match(/\/hang: no answer within 1 s; trying again/);
  });

  it('does not try again what the receiver refuses (4xx)', async function () {
    await eventually(() => receiver.at('/refuse').length === 2, 5000, 'both changes refused');
    expect(receiver.at('/refuse').map((request) => request.body.event)).to.deep.equal(['presence', 'device']);
    expect(server.stderr()).to.match(/\/refuse: answered 400; event dropped after 1 try/);
  });

  it('never holds up SIP, the CLI or the API while a receiver does not answer, and drops the oldest past --webhook-queue', async function () {
    // /held still holds the first change (abandoned at each timeout and tried again); everything below is answered
    // meanwhile.
    const changesAtHeld = (): unknown[] => [...new Set(receiver.at('/held').map((request) => request.body.id))];
    expect(changesAtHeld()).to.have.lengthOf(1);
    const watcher = await UdpSipClient.open(server.udpPort);
    try {
      const dialog = await watcher.subscribeDialog({ user: '6002' });
      await dialog.nextNotify();
      const api = new ApiClient(server.httpPort);
      for (let i = 1; i <= 6; i++) {
        const answer = await api.request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'dnd', message: `change ${i}` } });
        expect(answer.status).to.equal(200);
        expect((await dialog.nextNotify()).body).to.contain(`change ${i}`);
      }
      expect(changesAtHeld()).to.have.lengthOf(1);
      await eventually(() => server.stderr().includes(`${QUEUE} events waiting; dropping the oldest`), 5000, 'the drop in the log');
      expect(server.stderr().match(/events waiting; dropping the oldest/g)).to.have.lengthOf(1);

      receiver.release();
      await eventually(() => changesAtHeld().length === 1 + QUEUE, 20000, 'the queued changes');
      // The first change was in flight; of the seven after it only the newest three were kept, in order.
      const delivered = receiver.at('/held').filter((request) => request.body.id !== receiver.at('/held')[0].body.id);
      expect(delivered.map((request) => request.body.message)).to.deep.equal(['change 4', 'change 5', 'change 6']);
    } finally {
      await watcher.close();
    }
  });
});

describe('integration: webhook options', function () {
  it('refuses to start on a webhook that is not an http(s) URL, naming it', async function () {
    const dir = await makeTempDir();
    try {
      for (const [urls, message] of [['ftp://127.0.0.1/hook', "'ftp://127.0.0.1/hook' is not an http:// or https:// URL"], ['http://127.0.0.1/a,nope', "'nope' is not a URL"]]) {
        const result = await runProgram('presenced', ['--udp', '127.0.0.1:0', '--tcp', 'off', '--data', dir, '--webhook', urls]);
        expect(result.code).to.equal(1);
        expect(result.stderr).to.include(message);
      }
    } finally {
      await removeDir(dir);
    }
  });
});
