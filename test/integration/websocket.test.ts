// SIP over WebSocket (RFC 7118): the handshake, subscriptions over ws:// and wss://, NOTIFYs down the socket the
// SUBSCRIBE came on, what a closed socket ends, and the limits that keep one client from hurting others.
import { expect } from 'chai';
import WebSocket from 'ws';
import { listedSubscriptions, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';
import { WsSipClient } from '../helpers/ws-client.js';
import { parsePidf, parseVia, subscriptionState } from '../helpers/wire.js';

const TLS_ARGS = ['--tls-cert', 'fixtures/tls/test-cert.pem', '--tls-key', 'fixtures/tls/test-key.pem'];

describe('integration: SIP over WebSocket', function () {
  this.timeout(20000);
  let server: PresenceServer;
  const closables: Array<{ close(): Promise<void> }> = [];

  async function ws(options: Parameters<typeof WsSipClient.connect>[1] = {}, on: PresenceServer = server): Promise<WsSipClient> {
    const client = await WsSipClient.connect(options.secure ? on.wssPort : on.wsPort, options);
    closables.push(client);
    return client;
  }

  async function change(value: string, entity = 'CustomPresence:6002', on: PresenceServer = server): Promise<void> {
    const result = await on.cli(['change', entity, value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  before(async function () {
    server = await startServer({ args: ['--ws', '127.0.0.1:0', '--wss', '127.0.0.1:0', ...TLS_ARGS, '--ws-max-frame', '4096', '--ws-max-per-address', '12'] });
  });

  afterEach(async function () {
    for (const client of closables.splice(0)) await client.close();
  });

  after(async function () {
    await server?.stop();
  });

  describe('handshake', function () {
    it('echoes the sip subprotocol and names WS and WSS in the listening line', async function () {
      expect(server.wsPort).to.be.above(0);
      expect(server.wssPort).to.be.above(0);
      const client = await ws();
      expect(client.socket.protocol).to.equal('sip');
    });

    it('accepts the upgrade on /ws as well as /', async function () {
      const client = await ws({ path: '/ws' });
      expect(client.socket.protocol).to.equal('sip');
    });

    it('refuses a handshake without the sip subprotocol with 400 and says why', async function () {
      const refused = await WsSipClient.refused(server.wsPort, { protocols: ['chat'] });
      expect(refused.status).to.equal(400);
      expect(refused.body).to.match(/subprotocol 'sip' is required/);
      const none = await WsSipClient.refused(server.wsPort, { protocols: [] });
      expect(none.status).to.equal(400);
    });

    it('refuses other paths with 404', async function () {
      const refused = await WsSipClient.refused(server.wsPort, { path: '/asterisk/ws' });
      expect(refused.status).to.equal(404);
      expect(refused.body).to.match(/use \/ or \/ws/);
    });

    it('answers a plain HTTP request with 426 Upgrade Required', async function () {
      const response = await fetch(`http://127.0.0.1:${server.wsPort}/`);
      expect(response.status).to.equal(426);
      expect(await response.text()).to.match(/SIP WebSocket/);
    });
  });

  describe('subscriptions', function () {
    it('subscribes over ws://, answers down the socket and notifies with Via WS and our Contact transport=ws', async function () {
      const client = await ws();
      const { response, dialog } = await client.subscribe({ user: '6002', fromUser: 'browser' });
      expect(response.status).to.equal(200);
      expect(response.header('Contact')).to.match(/;transport=ws>/);
      const first = await dialog!.nextNotify();
      const via = parseVia(first.header('Via')!);
      expect(via.transport).to.equal('WS');
      expect(first.header('Contact')).to.match(/^<sip:127\.0\.0\.1:\d+;transport=ws>$/);
      expect(subscriptionState(first).state).to.equal('active');
      await change('away,,on the web');
      const next = await dialog!.nextNotify();
      expect(parsePidf(next.body).notes).to.include('on the web');
    });

    it('subscribes over wss:// with Via WSS, and accepts a transport=ws Contact on it', async function () {
      const client = await ws({ secure: true, contactTransport: 'ws' });
      const dialog = await client.subscribeDialog({ user: '6002' });
      const first = await dialog.nextNotify();
      expect(parseVia(first.header('Via')!).transport).to.equal('WSS');
      expect(first.header('Contact')).to.match(/;transport=wss>$/);
    });

    it('accepts a transport=wss Contact on ws:// (clients disagree)', async function () {
      const client = await ws({ contactTransport: 'wss' });
      const dialog = await client.subscribeDialog({ user: '6002' });
      const notify = await dialog.nextNotify();
      expect(notify.requestUri).to.match(/\.invalid;transport=wss$/);
    });

    it('answers a CRLF keep-alive with one CRLF', async function () {
      const client = await ws();
      await client.send('\r\n\r\n');
      await eventually(() => client.pongs === 1, 3000, 'a CRLF pong');
    });

    it('ends a closed socket\'s subscriptions at once, and fan-out to the other watchers carries on', async function () {
      const leaving = await ws();
      await (await leaving.subscribeDialog({ user: '7000', fromUser: 'leaving' })).nextNotify();
      await (await leaving.subscribeDialog({ user: '2000', fromUser: 'leaving' })).nextNotify();
      const staying = await ws();
      const stayingDialog = await staying.subscribeDialog({ user: '7000', fromUser: 'staying' });
      await stayingDialog.nextNotify();
      const udp = await UdpSipClient.open(server.udpPort);
      closables.push(udp);
      const udpDialog = await udp.subscribeDialog({ user: '7000', fromUser: 'udpwatcher' });
      await udpDialog.nextNotify();
      expect(await listedSubscriptions(server, 'leaving')).to.equal(2);
      leaving.socket.terminate();
      await eventually(async () => (await listedSubscriptions(server, 'leaving')) === 0, 5000, 'the closed socket\'s subscriptions to end');
      await change('dnd,,after the close', 'CustomPresence:7000');
      expect(parsePidf((await stayingDialog.nextNotify()).body).notes).to.include('after the close');
      expect(parsePidf((await udpDialog.nextNotify()).body).notes).to.include('after the close');
    });
  });

  describe('bad input', function () {
    it('closes a connection that sends a frame over --ws-max-frame (1009), and keeps serving others', async function () {
      const other = await ws();
      const dialog = await other.subscribeDialog({ user: '6003' });
      await dialog.nextNotify();
      const client = await ws();
      await client.send(client.buildSubscribe({ body: 'x'.repeat(5000), set: { 'Content-Type': 'text/plain' } }));
      await client.waitForClose();
      expect(client.closeCode).to.equal(1009);
      await change('xa,,still served');
      expect(parsePidf((await dialog.nextNotify()).body).notes).to.include('still served');
    });

    it('closes a connection that sends text that is not SIP (1002)', async function () {
      const client = await ws();
      await client.send('{"hello":"world"}');
      await client.waitForClose();
      expect(client.closeCode).to.equal(1002);
      expect(server.stderr()).to.match(/a frame that is not a SIP message/);
    });

    it('answers a malformed SIP request with 400 on the socket', async function () {
      const client = await ws();
      const response = await client.request(client.buildSubscribe({ set: { 'Max-Forwards': 'many' } }));
      expect(response.status).to.equal(400);
    });

    it('refuses connections past --ws-max-per-address with 503', async function () {
      const open: WsSipClient[] = [];
      for (let i = 0; i < 12; i++) {
        try {
          open.push(await ws());
        } catch {
          break;
        }
      }
      const refused = await WsSipClient.refused(server.wsPort);
      expect(refused.status).to.equal(503);
      expect(refused.body).to.match(/too many WebSocket connections from 127\.0\.0\.1/);
    });
  });
});

describe('integration: SIP over WebSocket — origins, keep-alive, idle connections, restarts', function () {
  this.timeout(30000);
  const closables: Array<{ close(): Promise<void> }> = [];
  let server: PresenceServer | undefined;

  afterEach(async function () {
    for (const client of closables.splice(0)) await client.close();
    await server?.stop();
    server = undefined;
  });

  it('also takes the upgrade on the --http port at /ws', async function () {
    server = await startServer({ args: ['--ws', '127.0.0.1:0', '--http', '127.0.0.1:0'] });
    const client = await WsSipClient.connect(server.httpPort, { path: '/ws' });
    closables.push(client);
    expect(client.socket.protocol).to.equal('sip');
    const dialog = await client.subscribeDialog({ user: '6002' });
    expect(parseVia((await dialog.nextNotify()).header('Via')!).transport).to.equal('WS');
    expect((await WsSipClient.refused(server.httpPort, { path: '/' })).status).to.equal(404);
    expect((await WsSipClient.refused(server.httpPort, { path: '/ws', protocols: ['chat'] })).status).to.equal(400);
  });

  it('allows only the --ws-origin Origins', async function () {
    server = await startServer({ args: ['--ws', '127.0.0.1:0', '--ws-origin', 'https://phone.example.com, https://ucp.example.com'] });
    const allowed = await WsSipClient.connect(server.wsPort, { origin: 'https://ucp.example.com' });
    closables.push(allowed);
    const refused = await WsSipClient.refused(server.wsPort, { origin: 'https://evil.example.com' });
    expect(refused.status).to.equal(403);
    expect(refused.body).to.match(/not allowed/);
    expect((await WsSipClient.refused(server.wsPort)).status, 'no Origin').to.equal(403);
  });

  it('pings, and drops a connection that does not answer pings', async function () {
    server = await startServer({ args: ['--ws', '127.0.0.1:0', '--ws-ping-interval', '1'] });
    const answering = await WsSipClient.connect(server.wsPort);
    closables.push(answering);
    let pings = 0;
    answering.socket.on('ping', () => pings++);
    const silent = new WebSocket(`ws://127.0.0.1:${server.wsPort}/`, ['sip'], { autoPong: false });
    const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await new Promise((resolve) => silent.once('open', resolve));
    await closed;
    expect(pings, 'pings the answering client got').to.be.above(0);
    expect(answering.isClosed).to.equal(false);
  });

  it('closes an idle connection unless it carries a subscription', async function () {
    server = await startServer({ args: ['--ws', '127.0.0.1:0', '--tcp-idle-timeout', '1'] });
    const watcher = await WsSipClient.connect(server.wsPort);
    closables.push(watcher);
    const dialog = await watcher.subscribeDialog({ user: '6002' });
    await dialog.nextNotify();
    const idle = await WsSipClient.connect(server.wsPort);
    closables.push(idle);
    await idle.waitForClose(8000);
    expect(watcher.isClosed).to.equal(false);
    const result = await server.cli(['change', 'CustomPresence:6002', 'chat,,kept open']);
    expect(result.code, result.stderr).to.equal(0);
    expect(parsePidf((await dialog.nextNotify()).body).notes).to.include('kept open');
  });

  it('does not restore WebSocket subscriptions after a restart (their socket is gone); UDP ones come back', async function () {
    const dataDir = await makeTempDir();
    try {
      server = await startServer({ dataDir, args: ['--ws', '127.0.0.1:0'] });
      const browser = await WsSipClient.connect(server.wsPort);
      closables.push(browser);
      await (await browser.subscribeDialog({ user: '6002', fromUser: 'browser' })).nextNotify();
      const phone = await UdpSipClient.open(server.udpPort);
      closables.push(phone);
      await (await phone.subscribeDialog({ user: '6002', fromUser: 'deskphone' })).nextNotify();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.stop();
      server = await startServer({ dataDir, args: ['--ws', '127.0.0.1:0'] });
      expect(await listedSubscriptions(server, 'deskphone')).to.equal(1);
      expect(await listedSubscriptions(server, 'browser')).to.equal(0);
    } finally {
      await server?.stop();
      server = undefined;
      await removeDir(dataDir);
    }
  });

  it('refuses --wss without a certificate, and an unreadable certificate, with a clear message', async function () {
    const noCert = await startServer({ args: ['--wss', '127.0.0.1:0'] }).then(() => 'started', (error: Error) => error.message);
    expect(noCert).to.match(/--wss needs --tls-cert FILE and --tls-key FILE/);
    const missing = await startServer({ args: ['--wss', '127.0.0.1:0', '--tls-cert', 'fixtures/tls/none.pem', '--tls-key', 'fixtures/tls/test-key.pem'] }).then(
      () => 'started',
      (error: Error) => error.message,
    );
    expect(missing).to.match(/cannot read the TLS certificate fixtures\/tls\/none\.pem: ENOENT/);
  });
});

