// PUBLISH (RFC 3903) against the running daemon over real sockets: the life cycle of one publication and every
// way the server refuses one.
import { expect } from 'chai';
import { startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient, TcpSipClient, UdpSipClient } from '../helpers/sip-client.js';
import type { SipClient, WatcherDialog } from '../helpers/sip-client.js';
import { digiumState, effectivePresence, entityTagOf, publish, rpidBody } from '../helpers/publish.js';

const MIN_EXPIRES = 2;

describe('integration: PUBLISH', function () {
  let server: PresenceServer;
  let udp: UdpSipClient;

  before(async function () {
    server = await startServer({ config: 'fixtures/integration/publish.conf', minExpires: MIN_EXPIRES });
    udp = await UdpSipClient.open(server.udpPort);
  });

  after(async function () {
    await udp?.close();
    await server?.stop();
  });

  async function watch(client: SipClient, user: string): Promise<WatcherDialog> {
    const { response, dialog } = await client.subscribe({ user, userAgent: 'Digium D65' });
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    await dialog.nextNotify();
    return dialog;
  }

  for (const transport of ['UDP', 'TCP'] as const) {
    it(`runs the life cycle over ${transport}: initial, refresh, modify, remove (RFC 3903 §4)`, async function () {
      const client = transport === 'UDP' ? udp : await TcpSipClient.connect(server.tcpPort);
      try {
        const watcher = await watch(client, '6003');

        const initial = await publish(client, { user: '6002', expires: 600, body: rpidBody('away', 'Back in ten minutes') });
        const first = entityTagOf(initial, 600);
        expect(digiumState(await watcher.nextNotify())).to.deep.equal({ type: 'away', subtype: '', text: 'Back in ten minutes' });

        const refresh = await publish(client, { user: '6002', etag: first, expires: 900 });
        const second = entityTagOf(refresh, 900);
        expect(second).not.to.equal(first);
        await watcher.expectNoNotify(500);

        const modify = await publish(client, { user: '6002', etag: second, expires: 600, body: rpidBody('on-the-phone', 'Call') });
        const third = entityTagOf(modify, 600);
        expect(new Set([first, second, third]).size).to.equal(3);
        expect(digiumState(await watcher.nextNotify())).to.deep.equal({ type: 'dnd', subtype: 'on-the-phone', text: 'Call' });
        expect((await publish(client, { user: '6002', etag: second, expires: 600 })).status, 'a retired entity-tag').to.equal(412);

        const remove = await publish(client, { user: '6002', etag: third, expires: 0 });
        expect(remove.status).to.equal(200);
        expect(remove.header('Expires')).to.equal('0');
        await watcher.nextNotify();
        expect(await effectivePresence(server, '6002')).to.equal('not_set');
        expect((await publish(client, { user: '6002', etag: third, expires: 600 })).status, 'a removed entity-tag').to.equal(412);
        expect((await watcher.refresh({ user: '6003', expires: 0 })).status).to.equal(200);
      } finally {
        if (client !== udp) await client.close();
      }
    });
  }

  it('drives the CustomPresence provider of the hint, whichever extension shares it', async function () {
    const response = await publish(udp, { user: '6003', body: rpidBody('vacation', 'Abroad') });
    const etag = entityTagOf(response, 600);
    expect(await effectivePresence(server, '6002')).to.equal('xa');
    expect((await publish(udp, { user: '6002', etag, expires: 0 })).status).to.equal(200);
  });

  it('shortens a long Expires to the maximum and uses the default when there is none', async function () {
    const long = await publish(udp, { user: '7000', expires: 999_999, body: rpidBody('away') });
    const etag = entityTagOf(long, 3600);
    const defaulted = await publish(udp, { user: '7000', etag, expires: null });
    const next = entityTagOf(defaulted, 3600);
    expect((await publish(udp, { user: '7000', etag: next, expires: 0 })).status).to.equal(200);
  });

  it('answers 412 to an entity-tag it does not hold for that resource', async function () {
    expect((await publish(udp, { user: '6002', etag: 'no-such-etag', expires: 600 })).reason).to.match(/Conditional Request Failed/);
    const etag = entityTagOf(await publish(udp, { user: '7000', body: rpidBody('away') }), 600);
    const elsewhere = await publish(udp, { user: '6002', etag, expires: 600, body: rpidBody('busy') });
    expect(elsewhere.status).to.equal(412);
    expect((await publish(udp, { user: '7000', etag, expires: 0 })).status).to.equal(200);
  });

  it('answers 423 with Min-Expires to a too brief Expires, and stores nothing', async function () {
    const response = await publish(udp, { user: '6002', expires: MIN_EXPIRES - 1, body: rpidBody('busy') });
    expect(response.status).to.equal(423);
    expect(response.header('Min-Expires')).to.equal(String(MIN_EXPIRES));
    expect(response.header('SIP-ETag')).to.equal(undefined);
    expect(await effectivePresence(server, '6002')).to.equal('not_set');
  });

  const BAD_INITIAL: Array<[string, Parameters<typeof publish>[1], number, RegExp]> = [
    ['no body', { user: '6002' }, 400, /needs a PIDF body/],
    ['a body that is not XML', { user: '6002', body: 'away' }, 400, /Malformed PIDF/],
    ['a PIDF document without any status', { user: '6002', body: '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:6002@127.0.0.1"/>' }, 400, /no digium_presence, RPID activity or basic/],
    ['a DOCTYPE', { user: '6002', body: `<!DOCTYPE presence>${rpidBody('away')}` }, 400, /DOCTYPE/],
    ['a document that is not PIDF', { user: '6002', body: '<note>away</note>' }, 400, /^Bad Request \(Malformed PIDF: no presence element with an entity attribute\)$/],
    ['Expires 0', { user: '6002', expires: 0, body: rpidBody('away') }, 400, /nothing to remove/],
    ['two entity-tags', { user: '6002', set: { 'SIP-If-Match': ['a', 'b'] }, body: rpidBody('away') }, 400, /one entity-tag/],
  ];
  for (const [what, options, status, reason] of BAD_INITIAL) {
    it(`answers ${status} to a PUBLISH with ${what}, and stores nothing`, async function () {
      const response = await publish(udp, options);
      expect(response.status, response.raw).to.equal(status);
      expect(response.reason).to.match(reason);
      expect(await effectivePresence(server, '6002')).to.equal('not_set');
    });
  }

  it('answers 415 with Accept to a body that is not PIDF, and stores nothing', async function () {
    const response = await publish(udp, { user: '6002', body: rpidBody('away'), contentType: 'application/xpidf+xml' });
    expect(response.status).to.equal(415);
    expect(response.header('Accept')).to.equal('application/pidf+xml');
    expect(await effectivePresence(server, '6002')).to.equal('not_set');
  });

  it('accepts a Content-Type with parameters, in any case', async function () {
    const response = await publish(udp, { user: '6002', body: rpidBody('away'), contentType: 'Application/PIDF+XML;charset=UTF-8' });
    const etag = entityTagOf(response, 600);
    expect((await publish(udp, { user: '6002', etag, expires: 0 })).status).to.equal(200);
  });

  it('answers 489 with Allow-Events to a missing or other event package', async function () {
    for (const event of [null, 'message-summary']) {
      const response = await publish(udp, { user: '6002', event, body: rpidBody('away') });
      expect(response.status).to.equal(489);
      expect(response.header('Allow-Events')).to.equal('presence, dialog');
    }
  });

  it('answers 404 when the extension has no hint or no CustomPresence provider', async function () {
    for (const user of ['9999', '6010', '6011']) {
      expect((await publish(udp, { user, body: rpidBody('away') })).status, user).to.equal(404);
    }
  });

  it('lists PUBLISH in Allow', async function () {
    const client = await openClient('UDP', server);
    try {
      const response = await client.request(client.buildRequest('OPTIONS'));
      expect(response.header('Allow')).to.match(/\bPUBLISH\b/);
    } finally {
      await client.close();
    }
  });
});
