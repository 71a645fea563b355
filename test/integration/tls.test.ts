// SIP over TLS (RFC 3261 §26): subscriptions and their NOTIFYs on the phone's own TLS connection, sips: dialogs,
// certificates chosen by SNI, reloaded on SIGHUP without dropping connections, modern ciphers only, and clients that
// never finish their handshake. Certificates are made with openssl for each run.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { listedSubscriptions, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, newTag, TcpSipClient, UdpSipClient } from '../helpers/sip-client.js';
import { makeCertificate, type CertificateFiles } from '../helpers/tls.js';
import { parsePidf, parseVia, uriOf } from '../helpers/wire.js';

/** The CN of the certificate the server presents to a client asking for `servername` (none: by IP, as phones do). */
function servedName(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(Array.isArray(name) ? name.join(',') : name ?? '');
    });
    socket.once('error', reject);
  });
}

/** Whether a TLS 1.2 handshake offering only `ciphers` succeeds. */
function handshakes(port: number, ciphers: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A plain TCP connection to the TLS port; `closed` resolves when the server closes it. */
async function rawConnection(port: number): Promise<{ socket: net.Socket; closed: Promise<void>; isClosed: () => boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let isClosed = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => {
    isClosed = true;
    resolve();
  }));
  return { socket, closed, isClosed: () => isClosed };
}

describe('integration: SIP over TLS', function () {
  this.timeout(30000);
  let dir: string;
  let defaultCert: CertificateFiles;
  let server: PresenceServer | undefined;
  const closables: Array<{ close(): Promise<void> }> = [];

  before(async function () {
    dir = await makeTempDir('presenced-tls-');
    const certDir = path.join(dir, 'sni');
    await mkdir(certDir);
    // RSA for the default, so that an RSA key exchange (AES128-SHA) would be possible if presenced allowed it.
    defaultCert = await makeCertificate(dir, 'default', ['default.test'], 'rsa');
    await makeCertificate(dir, 'renewed', ['renewed.test']);
    await makeCertificate(certDir, 'phones', ['phones.example.test', 'desk.example.test']);
    await makeCertificate(certDir, 'wildcard', ['*.pbx.example.test']);
  });

  after(async function () {
    await removeDir(dir);
  });

  afterEach(async function () {
    for (const client of closables.splice(0)) await client.close();
    await server?.stop();
    server = undefined;
  });

  async function start(extra: string[] = []): Promise<PresenceServer> {
    server = await startServer({
      args: ['--tls', '127.0.0.1:0', '--tls-cert', defaultCert.cert, '--tls-key', defaultCert.key, '--tls-cert-dir', path.join(dir, 'sni'), ...extra],
      logLevel: 'info',
    });
    return server;
  }

  async function tlsClient(on: PresenceServer, options: tls.ConnectionOptions = {}): Promise<TcpSipClient> {
    const client = await TcpSipClient.connectTls(on.tlsPort, options);
    closables.push(client);
    return client;
  }

  async function change(on: PresenceServer, value: string, entity = 'CustomPresence:7000'): Promise<void> {
    const result = await on.cli(['change', entity, value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  it('subscribes over TLS and sends every NOTIFY on that connection, Via TLS; the subscription ends with it', async function () {
    const on = await start();
    const client = await tlsClient(on);
    const fromUser = `tls-${newTag()}`;
    const { response, dialog } = await client.subscribe({ fromUser, user: '7000' });
    expect(response.status).to.equal(200);
    expect(uriOf(response.header('Contact') ?? '')).to.match(/^sip:127\.0\.0\.1:\d+;transport=tls$/);
    if (!dialog) throw new Error('no dialog');
    const first = await dialog.nextNotify();
    expect(parseVia(first.headerValues('Via')[0]).transport).to.equal('TLS');
    await change(on, 'away,,over TLS');
    const second = await dialog.nextNotify();
    expect(parsePidf(second.body).notes[0]).to.equal('over TLS');

    // presenced does not dial out over TLS: without its connection the subscription is over.
    await client.close();
    await eventually(async () => (await listedSubscriptions(on, fromUser)) === 0, 5000, 'the subscription to end with its connection');
  });

  it('keeps a sips: dialog on TLS: SIPS Contact in the 200, NOTIFYs to the sips: Contact; 480 for one that arrives over UDP or TCP', async function () {
    const on = await start();
    const client = await tlsClient(on);
    const contact = `<sips:watcher@127.0.0.1:${client.localPort}>`;
    const uri = `sips:7000@127.0.0.1:${on.tlsPort}`;
    const { response, dialog } = await client.subscribe({ uri, user: '7000', set: { Contact: contact } });
    expect(response.status).to.equal(200);
    expect(uriOf(response.header('Contact') ?? '')).to.equal(`sips:127.0.0.1:${on.tlsPort}`);
    if (!dialog) throw new Error('no dialog');
    const notify = await dialog.nextNotify();
    expect(notify.requestUri).to.equal(`sips:watcher@127.0.0.1:${client.localPort}`);
    expect(parseVia(notify.headerValues('Via')[0]).transport).to.equal('TLS');

    const udp = await UdpSipClient.open(on.udpPort);
    closables.push(udp);
    const overUdp = await udp.subscribe({ uri: `sips:7000@127.0.0.1:${on.udpPort}`, user: '7000' });
    expect(overUdp.response.status).to.equal(480);
    expect(overUdp.response.reason).to.equal('Temporarily Unavailable (a sips: dialog needs a TLS connection)');
    const tcp = await TcpSipClient.connect(on.tcpPort);
    closables.push(tcp);
    const sipsContact = await tcp.subscribe({ user: '7000', set: { Contact: `<sips:watcher@127.0.0.1:${tcp.localPort}>` } });
    expect(sipsContact.response.status, 'a sips: Contact over TCP').to.equal(480);
    // A refresh of the SIPS dialog over UDP would move its NOTIFYs off TLS.
    const refreshOverUdp = await udp.request(udp.buildSubscribe({
      uri, user: '7000', callId: dialog.callId, fromTag: dialog.fromTag, toTag: dialog.toTag, cseq: dialog.cseq + 1, set: { Contact: contact },
    }));
    expect(refreshOverUdp.status).to.equal(480);
    await change(on, 'dnd,,still on TLS');
    expect(parsePidf((await dialog.nextNotify()).body).notes[0]).to.equal('still on TLS');
    await udp.expectNone((message) => message.isRequest && message.method === 'NOTIFY', 500, 'NOTIFY over UDP');
  });

  it('serves the certificate of the name a client asks for (SNI), and the default one without a name or for an unknown one', async function () {
    const on = await start(['--wss', '127.0.0.1:0']);
    expect(await servedName(on.tlsPort), 'no SNI (connecting by IP)').to.equal('default.test');
    expect(await servedName(on.tlsPort, 'phones.example.test')).to.equal('phones.example.test');
    expect(await servedName(on.tlsPort, 'DESK.example.test'), 'a second name of that certificate, any case').to.equal('phones.example.test');
    expect(await servedName(on.tlsPort, 'sales.pbx.example.test'), 'a wildcard certificate').to.equal('*.pbx.example.test');
    expect(await servedName(on.tlsPort, 'a.b.pbx.example.test'), 'a wildcard covers one label only').to.equal('default.test');
    expect(await servedName(on.tlsPort, 'unknown.example.test')).to.equal('default.test');
    // Secure WebSocket serves the same certificates.
    expect(await servedName(on.wssPort)).to.equal('default.test');
    expect(await servedName(on.wssPort, 'phones.example.test')).to.equal('phones.example.test');
  });

  it('accepts modern ciphers only: no RSA key exchange, no CBC', async function () {
    const on = await start();
    expect(await handshakes(on.tlsPort, 'ECDHE-RSA-AES128-GCM-SHA256'), 'ECDHE with AES-GCM').to.equal(true);
    expect(await handshakes(on.tlsPort, 'AES128-SHA'), 'RSA key exchange, CBC').to.equal(false);
    expect(await handshakes(on.tlsPort, 'ECDHE-RSA-AES128-SHA'), 'ECDHE with CBC').to.equal(false);
    await eventually(() => on.stderr().includes('tls: handshake with 127.0.0.1 failed: no shared cipher'), 3000, 'the failed handshake in the log');
  });

  it('serves a new certificate after SIGHUP without dropping open connections; a broken one keeps the old', async function () {
    // The daemon reads its own copies, so that the test can replace them.
    const live = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
    await copyFile(defaultCert.cert, live.cert);
    await copyFile(defaultCert.key, live.key);
    server = await startServer({ args: ['--tls', '127.0.0.1:0', '--wss', '127.0.0.1:0', '--tls-cert', live.cert, '--tls-key', live.key], logLevel: 'info' });
    const on = server;
    const client = await tlsClient(on);
    const dialog = await client.subscribeDialog({ user: '7000' });
    await dialog.nextNotify();
    expect(await servedName(on.tlsPort)).to.equal('default.test');

    await copyFile(path.join(dir, 'renewed.crt'), live.cert);
    await copyFile(path.join(dir, 'renewed.key'), live.key);
    on.signal('SIGHUP');
    await eventually(() => on.stderr().includes('reload: TLS certificates: default CN=renewed.test'), 5000, 'the reload');
    expect(await servedName(on.tlsPort), 'a new connection').to.equal('renewed.test');
    expect(await servedName(on.wssPort), 'a new WSS connection').to.equal('renewed.test');
    await change(on, 'away,,after the reload');
    expect(parsePidf((await dialog.nextNotify()).body).notes[0], 'the connection opened before the reload').to.equal('after the reload');

    await writeFile(live.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    // `presencestate reload` does what SIGHUP does, and says so.
    const reload = await on.cli(['reload']);
    expect(reload.code).to.equal(1);
    expect(reload.stderr).to.match(/^Not reloaded TLS certificates: .*live\.crt.*keeping the previous TLS certificates$/m);
    expect(on.stderr()).to.match(/ERROR.*reload: .*live\.crt.*keeping the previous TLS certificates/);
    expect(await servedName(on.tlsPort), 'after a broken certificate').to.equal('renewed.test');
    await change(on, 'dnd,,still connected');
    expect(parsePidf((await dialog.nextNotify()).body).notes[0]).to.equal('still connected');
  });

  it('closes a client that does not finish its handshake, or sends garbage instead, and serves the next one', async function () {
    const on = await start(['--tls-handshake-timeout', '1', '--message-timeout', '60']);
    const silent = await rawConnection(on.tlsPort);
    // The start of a ClientHello record, never completed.
    const partial = await rawConnection(on.tlsPort);
    partial.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await Promise.all([silent.closed, partial.closed]);
    await eventually(() => on.stderr().includes('no handshake within 1 s'), 3000, 'the handshake timeout in the log');

    const garbage = await rawConnection(on.tlsPort);
    garbage.socket.write('SUBSCRIBE sip:7000@127.0.0.1 SIP/2.0\r\n\r\n');
    await garbage.closed;
    await eventually(() => /tls: handshake with 127\.0\.0\.1 failed: \S/.test(on.stderr()), 3000, 'the failed handshake in the log');

    const client = await tlsClient(on);
    const dialog = await client.subscribeDialog({ user: '7000' });
    await dialog.nextNotify();
  });

  it('counts connections still in their handshake against --max-connections-per-source', async function () {
    const on = await start(['--tls-handshake-timeout', '60', '--max-connections-per-source', '2']);
    const first = await rawConnection(on.tlsPort);
    const second = await rawConnection(on.tlsPort);
    const third = await rawConnection(on.tlsPort);
    await third.closed;
    expect(first.isClosed() || second.isClosed(), 'the pending handshakes are still open').to.equal(false);
    await eventually(() => on.stderr().includes('tls: refusing connections from 127.0.0.1: it has 2 open'), 3000, 'the refusal in the log');
    first.socket.destroy();
    second.socket.destroy();
  });

  it('closes a connection from an address a pjsip.conf type=acl denies before its handshake', async function () {
    const on = await start(['--pjsip', 'fixtures/security/pjsip.conf']);
    const denied = await new Promise<string>((resolve) => {
      const tcp = net.connect({ host: '127.0.0.1', port: on.tlsPort, localAddress: '127.0.0.2' });
      const socket = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => {
        socket.destroy();
        resolve('handshake done');
      });
      socket.once('error', (error) => resolve(error.message));
    });
    expect(denied).to.match(/before secure TLS connection was established|ECONNRESET/);
    expect(await servedName(on.tlsPort), 'from a permitted address').to.equal('default.test');
  });

  it('refuses to start with --tls but no certificate, or a certificate without its key in --tls-cert-dir', async function () {
    const noCert = await startServer({ args: ['--tls', '127.0.0.1:0'] }).then(() => 'started', (error: Error) => error.message);
    expect(noCert).to.match(/--tls needs --tls-cert FILE and --tls-key FILE/);
    const lonely = path.join(dir, 'lonely');
    await mkdir(lonely, { recursive: true });
    await copyFile(path.join(dir, 'renewed.crt'), path.join(lonely, 'pbx.crt'));
    const noKey = await startServer({ args: ['--tls', '127.0.0.1:0', '--tls-cert', defaultCert.cert, '--tls-key', defaultCert.key, '--tls-cert-dir', lonely] })
      .then(() => 'started', (error: Error) => error.message);
    expect(noKey).to.include(`the TLS certificate ${path.join(lonely, 'pbx.crt')} has no key ${path.join(lonely, 'pbx.key')} beside it`);
  });
});
