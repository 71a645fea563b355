// Request-contained resource lists (RFC 5367): a SUBSCRIBE to the list server's user (--rls-uri, default `rls`) with
// an RFC 4826 resource-lists body — Linphone's own SUBSCRIBE, deflated, byte for byte — subscribes to every member;
// members without a hint are listed as rejected; each unusable request gets its own clear answer, logged once.
import { readFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';
import { expect } from 'chai';
import { freePort, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { newCallId, newTag, UdpSipClient, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf, type SipMessage } from '../helpers/wire.js';

const MAX_MEMBERS = 5;
const LIST_HEADERS = {
  Supported: 'eventlist',
  Require: 'recipient-list-subscribe',
  'Content-Disposition': 'recipient-list',
  'Content-Type': 'application/resource-lists+xml',
  Accept: 'multipart/related, application/rlmi+xml, application/pidf+xml',
};

function resourceLists(...uris: string[]): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>' +
    uris.map((uri) => `<entry uri="${uri}"/>`).join('') + '</list></resource-lists>\n';
}

/** The root RLMI document and the other parts of a multipart/related NOTIFY. */
function listNotify(message: SipMessage) {
  const boundary = /boundary="?([^";]+)"?/.exec(message.header('Content-Type') ?? '')![1]!;
  const [root, ...parts] = message.body.split(`--${boundary}`).slice(1, -1).map((chunk) => chunk.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/\r\n$/, ''));
  const list = /<list [^>]*uri="([^"]+)" version="(\d+)" fullState="(\w+)"/.exec(root!)!;
  const resources = [...root!.matchAll(/<resource uri="([^"]+)">.*?state="(\w+)"(?: reason="(\w+)")?/g)].map((m) => [m[1], m[2], m[3] ?? '']);
  return { uri: list[1], version: Number(list[2]), fullState: list[3], resources, parts };
}

describe('integration: request-contained resource lists (RFC 5367)', function () {
  this.timeout(20000);
  let server: PresenceServer;
  let client: UdpSipClient;

  before(async function () {
    server = await startServer({ logLevel: 'info', args: ['--rls-max-members', String(MAX_MEMBERS)] });
    client = await UdpSipClient.open(server.udpPort);
  });

  after(async function () {
    await client?.close();
    await server?.stop();
  });

  /** A SUBSCRIBE to sip:rls@… with `body` (text or bytes) and the list headers, with `set` over them. */
  async function subscribeList(body: string | Buffer, set: Record<string, string | null> = {}) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    const callId = newCallId();
    const fromTag = newTag();
    const head = client.buildSubscribe({ user: 'rls', callId, fromTag, set: { ...LIST_HEADERS, 'Content-Length': String(bytes.length), ...set } });
    const response = await client.request(Buffer.concat([Buffer.from(head), bytes]));
    const dialog = response.status === 200 ? new WatcherDialog(client, { user: 'rls', callId, fromTag, toTag: response.toTag!, cseq: 1, set: LIST_HEADERS }) : undefined;
    return { response, dialog };
  }

  it("serves Linphone's own SUBSCRIBE (deflate): each friend by the URI it sent, one without a hint rejected", async function () {
    // linphonec 5.1's friend-list SUBSCRIBE as captured, re-addressed to this server and this client.
    const captured = await readFile('fixtures/lists/linphonec-rls-subscribe.sip');
    const split = captured.indexOf('\r\n\r\n') + 4;
    const head = captured.subarray(0, split).toString('latin1')
      .replaceAll('127.0.0.1:34090', `127.0.0.1:${server.udpPort}`)
      .replaceAll('127.0.0.1:34095', `127.0.0.1:${client.localPort}`);
    const response = await client.request(Buffer.concat([Buffer.from(head, 'latin1'), captured.subarray(split)]));
    expect(response.status, response.reason).to.equal(200);
    expect(response.header('Require')).to.equal('eventlist');
    const notify = await client.waitFor((message) => message.method === 'NOTIFY' && message.callId === 'D62TF8dOeV');
    expect(notify.header('Content-Type')).to.match(/^multipart\/related;type="application\/rlmi\+xml"/);
    const list = listNotify(notify);
    expect(list).to.deep.include({ uri: 'sip:rls@127.0.0.1', version: 0, fullState: 'true' });
    expect(list.resources).to.deep.equal([
      ['sip:6001@127.0.0.1', 'terminated', 'rejected'],
      ['sip:6002@127.0.0.1', 'active', ''],
    ]);
    expect(list.parts).to.have.length(1);
    expect(parsePidf(list.parts[0]!).entity).to.equal('sip:6002@127.0.0.1');
    // The form liblinphone reads (it drops any other without a word): `Event: Presence`, a bare Content-Id, and no
    // RLMI <name>, which it would make the friend's new name.
    expect(notify.header('Event')).to.equal('Presence');
    expect(notify.body).to.contain('\r\nContent-Id: 6002@127.0.0.1\r\n').and.not.to.contain('<name>');
  });

  it('sends a member change as partial state: that member alone, version one higher', async function () {
    const { response, dialog } = await subscribeList(resourceLists('sip:2000@127.0.0.1', 'sip:7000@127.0.0.1:5060'));
    expect(response.status, response.reason).to.equal(200);
    const first = listNotify(await dialog!.nextNotify());
    expect(first.resources.map(([uri]) => uri)).to.deep.equal(['sip:2000@127.0.0.1', 'sip:7000@127.0.0.1:5060']);
    const change = await server.cli(['change', 'CustomPresence:7000', 'away,,from the list']);
    expect(change.code, change.stderr).to.equal(0);
    const notify = await dialog!.nextNotify();
    // Every other watcher gets the standard form (RFC 6665 event token, RFC 2392 Content-ID).
    expect(notify.header('Event')).to.equal('presence');
    expect(notify.body).to.contain('\r\nContent-Id: <7000@127.0.0.1>\r\n');
    const next = listNotify(notify);
    expect(next).to.deep.include({ version: 1, fullState: 'false' });
    expect(next.resources).to.deep.equal([['sip:7000@127.0.0.1:5060', 'active', '']]);
    expect(parsePidf(next.parts[0]!).notes).to.include('from the list');
  });

  it('reads nested lists, any namespace prefix and identity bodies; a member named twice is listed once', async function () {
    const { response, dialog } = await subscribeList(await readFile('fixtures/lists/request/nested.xml'));
    expect(response.status, response.reason).to.equal(200);
    expect(listNotify(await dialog!.nextNotify()).resources).to.deep.equal([
      ['sip:2000@127.0.0.1', 'active', ''],
      ['sip:7000@127.0.0.1', 'active', ''],
      ['tel:+15551234', 'terminated', 'rejected'],
      ['sip:6002@127.0.0.1', 'active', ''],
    ]);
  });

  describe('bad requests', function () {
    const members = resourceLists('sip:2000@127.0.0.1');
    const cases: Array<{ what: string; body: () => Promise<string | Buffer> | string | Buffer; set?: Record<string, string | null>; status: number; reason: RegExp; header?: [string, string] }> = [
      { what: 'no Require: recipient-list-subscribe', body: () => members, set: { Require: null }, status: 400, reason: /needs Require: recipient-list-subscribe/ },
      { what: 'no Content-Disposition: recipient-list', body: () => members, set: { 'Content-Disposition': 'render' }, status: 400, reason: /needs Content-Disposition: recipient-list/ },
      { what: 'another body type', body: () => members, set: { 'Content-Type': 'application/pidf+xml' }, status: 415, reason: /Unsupported Media Type/, header: ['Accept', 'application/resource-lists+xml'] },
      { what: 'an encoding other than deflate', body: () => members, set: { 'Content-Encoding': 'gzip' }, status: 415, reason: /Unsupported Media Type/, header: ['Accept-Encoding', 'deflate, identity'] },
      { what: 'a body that is not XML', body: () => 'friends: 2000, 7000', status: 400, reason: /resource list: not XML/ },
      { what: 'an XML body that is no resource list', body: () => readFile('fixtures/lists/request/not-a-list.xml'), status: 400, reason: /no resource-lists element/ },
      { what: 'a list without entries', body: () => readFile('fixtures/lists/request/empty.xml'), status: 400, reason: /has no entry/ },
      { what: 'bytes that are not deflate data', body: () => Buffer.from('not compressed at all'), set: { 'Content-Encoding': 'deflate' }, status: 400, reason: /not deflate/ },
      // 8 MiB of spaces deflate to about 8 KiB: within the request size limit, far past the document limit.
      { what: 'a deflate bomb', body: () => deflateSync(Buffer.alloc(8 << 20, 0x20), { level: 9 }), set: { 'Content-Encoding': 'deflate' }, status: 413, reason: /over 65536 bytes/ },
      {
        what: `more than ${MAX_MEMBERS} members`, body: () => resourceLists(...Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => `sip:${7100 + i}@127.0.0.1`)),
        status: 413, reason: new RegExp(`more than ${MAX_MEMBERS} entries`),
      },
    ];
    for (const { what, body, set, status, reason, header } of cases) {
      it(`answers ${status} to ${what}`, async function () {
        const { response } = await subscribeList(await body(), set);
        expect(response.status).to.equal(status);
        expect(response.reason).to.match(reason);
        if (header) expect(response.header(header[0])).to.equal(header[1]);
      });
    }

    it('answers 404 to a Request-URI that spells out a list instead of a body', async function () {
      const uri = `sip:rls%20sip%3A2000%40127.0.0.1@127.0.0.1:${server.udpPort}`;
      const spelled = await client.request(client.buildSubscribe({ uri, set: { ...LIST_HEADERS, 'Content-Type': null, 'Content-Disposition': null } }));
      expect(spelled.status, spelled.reason).to.equal(404);
    });

    it('asks for eventlist first (421), like a list of pjsip.conf', async function () {
      const { response } = await subscribeList(members, { Supported: null });
      expect(response.status).to.equal(421);
      expect(response.header('Require')).to.equal('eventlist');
    });

    it('logged the refusals once, and keeps serving', async function () {
      const lines = server.stderr().split('\n').filter((line) => line.includes('refused: ') && line.includes('resource list of'));
      expect(lines, server.stderr()).to.have.length(1);
      const { response, dialog } = await subscribeList(members);
      expect(response.status).to.equal(200);
      expect(listNotify(await dialog!.nextNotify()).resources).to.have.length(1);
    });
  });
});

describe('integration: request-contained lists across a restart', function () {
  this.timeout(30000);

  it('restores the list with its members and keeps the RLMI version rising', async function () {
    const dataDir = await makeTempDir();
    const port = await freePort();
    const options = { dataDir, udp: `127.0.0.1:${port}`, tcp: `127.0.0.1:${port}` };
    let server = await startServer(options);
    const client = await UdpSipClient.open(port);
    try {
      const body = resourceLists('sip:2000@127.0.0.1', 'sip:6001@127.0.0.1');
      const head = client.buildSubscribe({ user: 'rls', set: { ...LIST_HEADERS, 'Content-Length': String(Buffer.byteLength(body)) } });
      const response = await client.request(head + body);
      expect(response.status, response.reason).to.equal(200);
      const before = listNotify(await client.waitFor((message) => message.method === 'NOTIFY'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.stop();
      server = await startServer(options);
      const after = listNotify(await client.waitFor((message) => message.method === 'NOTIFY', 8000));
      expect(after.version).to.be.above(before.version);
      expect(after.resources).to.deep.equal([['sip:2000@127.0.0.1', 'active', ''], ['sip:6001@127.0.0.1', 'terminated', 'rejected']]);
    } finally {
      await client.close();
      await server.stop();
      await removeDir(dataDir);
    }
  });
});
