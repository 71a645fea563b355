// Resource lists (RFC 4662) from pjsip.conf `type=resource_list`: 421 without eventlist support, multipart/related
// NOTIFYs with an RLMI root and one PIDF part per member, nested lists expanded, unknown members rejected; partial
// state after the first NOTIFY for full_state=no lists, full state every time for full_state=yes.
import { expect } from 'chai';
import { freePort, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { UdpSipClient, type SubscribeOptions } from '../helpers/sip-client.js';
import { parsePidf, type SipMessage } from '../helpers/wire.js';

const LIST_HEADERS = { Supported: 'eventlist', Accept: 'application/pidf+xml, application/rlmi+xml, multipart/related' };

interface Part { headers: Record<string, string>; body: string }

/** Splits a multipart/related body on the boundary its Content-Type names. */
function parts(message: SipMessage): Part[] {
  const boundary = /boundary="?([^";]+)"?/.exec(message.header('Content-Type') ?? '')?.[1];
  if (!boundary) throw new Error(`no boundary in ${message.header('Content-Type')}`);
  const text = message.body;
  expect(text.trimEnd().endsWith(`--${boundary}--`), 'closing delimiter').to.equal(true);
  return text
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((chunk) => {
      const [head, ...rest] = chunk.replace(/^\r\n/, '').split('\r\n\r\n');
      const headers: Record<string, string> = {};
      for (const line of head!.split('\r\n')) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      return { headers, body: rest.join('\r\n\r\n').replace(/\r\n$/, '') };
    });
}

function rlmi(message: SipMessage): { version: number; fullState: string; resources: Array<{ uri: string; state: string; reason?: string; cid?: string }> } {
  const root = parts(message)[0]!;
  expect(root.headers['content-type']).to.match(/^application\/rlmi\+xml/);
  const list = /<list [^>]*version="(\d+)" fullState="(\w+)"/.exec(root.body)!;
  const resources = [...root.body.matchAll(/<resource uri="([^"]+)">.*?<instance [^>]*state="(\w+)"(?: reason="(\w+)")?(?: cid="([^"]+)")?/g)].map((m) => ({
    uri: m[1]!, state: m[2]!, ...(m[3] ? { reason: m[3] } : {}), ...(m[4] ? { cid: m[4] } : {}),
  }));
  return { version: Number(list[1]), fullState: list[2]!, resources };
}

describe('integration: resource lists (RFC 4662)', function () {
  this.timeout(20000);
  let server: PresenceServer;
  let client: UdpSipClient;

  before(async function () {
    server = await startServer({ args: ['--pjsip', 'fixtures/lists/pjsip.conf'] });
    client = await UdpSipClient.open(server.udpPort);
  });

  after(async function () {
    await client?.close();
    await server?.stop();
  });

  function subscribeList(options: SubscribeOptions = {}) {
    return client.subscribe({ user: 'sales', ...options, set: { ...LIST_HEADERS, ...options.set } });
  }

  it('refuses a list SUBSCRIBE without Supported: eventlist with 421 and Require: eventlist', async function () {
    const { response } = await client.subscribe({ user: 'sales' });
    expect(response.status).to.equal(421);
    expect(response.header('Require')).to.equal('eventlist');
  });

  it('accepts it with Supported: eventlist and sends the full state: RLMI root, one PIDF part per member', async function () {
    const { response, dialog } = await subscribeList();
    expect(response.status).to.equal(200);
    expect(response.header('Require')).to.equal('eventlist');
    const notify = await dialog!.nextNotify();
    expect(notify.header('Require')).to.equal('eventlist');
    expect(notify.header('Content-Type')).to.match(/^multipart\/related;type="application\/rlmi\+xml";start="<[^>]+>";boundary=[\w.-]+$/);
    const document = rlmi(notify);
    expect(document.version).to.equal(0);
    expect(document.fullState).to.equal('true');
    expect(document.resources.map((r) => [r.uri.replace(/@.*/, ''), r.state, r.reason ?? ''])).to.deep.equal([
      ['sip:6002', 'active', ''],
      ['sip:2000', 'active', ''],
      ['sip:7000', 'active', ''],
      ['sip:9999', 'terminated', 'rejected'],
    ]);
    const [, ...members] = parts(notify);
    expect(members.map((part) => part.headers['content-id'])).to.deep.equal(document.resources.filter((r) => r.cid).map((r) => `<${r.cid}>`));
    for (const part of members) expect(part.headers['content-type']).to.match(/^application\/pidf\+xml/);
    expect(parsePidf(members[0]!.body).entity).to.match(/^sip:6002@/);
  });

  it('notifies a member change with the next RLMI version and the new state in that member\'s part', async function () {
    const dialog = (await subscribeList()).dialog!;
    const first = rlmi(await dialog.nextNotify());
    const change = await server.cli(['change', 'CustomPresence:7000', 'away,,in a meeting']);
    expect(change.code, change.stderr).to.equal(0);
    const notify = await dialog.nextNotify();
    expect(rlmi(notify).version).to.equal(first.version + 1);
    const part = parts(notify).find((p) => p.headers['content-id']?.startsWith('<7000@'))!;
    expect(parsePidf(part.body).notes).to.include('in a meeting');
  });

  it('ends a list subscription with a final NOTIFY on unsubscribe', async function () {
    const dialog = (await subscribeList()).dialog!;
    await dialog.nextNotify();
    const response = await dialog.refresh({ expires: 0, set: LIST_HEADERS });
    expect(response.status).to.equal(200);
    const final = await dialog.nextNotify();
    expect(final.header('Subscription-State')).to.match(/^terminated/);
  });

  it('gathers member changes within notification_batch_interval into one NOTIFY', async function () {
    const dialog = (await subscribeList({ user: 'batched' })).dialog!;
    const first = rlmi(await dialog.nextNotify());
    for (const [entity, note] of [['CustomPresence:6002', 'batch one'], ['CustomPresence:2000', 'batch two'], ['CustomPresence:7000', 'batch three']]) {
      const change = await server.cli(['change', entity!, `dnd,,${note}`]);
      expect(change.code, change.stderr).to.equal(0);
    }
    const batched = await dialog.nextNotify(8000);
    expect(rlmi(batched).version).to.equal(first.version + 1);
    expect(rlmi(batched).fullState).to.equal('false');
    expect(rlmi(batched).resources.map((r) => r.uri.replace(/@.*/, ''))).to.deep.equal(['sip:6002', 'sip:2000', 'sip:7000']);
    const notes = parts(batched).slice(1).flatMap((part) => parsePidf(part.body).notes);
    expect(notes).to.include.members(['batch one', 'batch two', 'batch three']);
    await dialog.expectNoNotify(700);
  });

  describe('partial state (RFC 4662 §5.2)', function () {
    const names = (message: SipMessage) => rlmi(message).resources.map((r) => r.uri.replace(/^sip:|@.*$/g, ''));
    async function change(entity: string, value: string): Promise<void> {
      const result = await server.cli(['change', entity, value]);
      expect(result.code, result.stderr).to.equal(0);
    }

    it('full_state=no: after the full first NOTIFY, only the changed resource, fullState="false", version one higher', async function () {
      const dialog = (await subscribeList()).dialog!;
      const first = await dialog.nextNotify();
      expect(rlmi(first).fullState).to.equal('true');
      expect(names(first)).to.deep.equal(['6002', '2000', '7000', '9999']);

      await change('CustomPresence:7000', 'away,,partial one');
      const partial = await dialog.nextNotify();
      expect(rlmi(partial)).to.deep.include({ version: rlmi(first).version + 1, fullState: 'false' });
      expect(names(partial)).to.deep.equal(['7000']);
      const [, ...memberParts] = parts(partial);
      expect(memberParts.map((part) => part.headers['content-id'])).to.deep.equal([`<${rlmi(partial).resources[0]!.cid}>`]);
      expect(parsePidf(memberParts[0]!.body).notes).to.include('partial one');

      await change('CustomPresence:6002', 'dnd,,partial two');
      const next = await dialog.nextNotify();
      expect(rlmi(next)).to.deep.include({ version: rlmi(first).version + 2, fullState: 'false' });
      expect(names(next)).to.deep.equal(['6002']);

      // The partial's part is the member's one cached part: a new watcher's full state carries the same bytes.
      const newcomer = (await subscribeList()).dialog!;
      const full = await newcomer.nextNotify();
      expect(rlmi(full).fullState).to.equal('true');
      const cached = parts(full).find((part) => part.headers['content-id']?.startsWith('<6002@'))!;
      expect(parts(next)[1]).to.deep.equal(cached);
    });

    it('sends full state again after a refresh', async function () {
      const dialog = (await subscribeList()).dialog!;
      const first = rlmi(await dialog.nextNotify());
      await change('CustomPresence:2000', 'away,,before the refresh');
      expect(names(await dialog.nextNotify())).to.deep.equal(['2000']);
      const response = await dialog.refresh({ set: LIST_HEADERS });
      expect(response.status).to.equal(200);
      const refreshed = await dialog.nextNotify();
      expect(rlmi(refreshed)).to.deep.include({ version: first.version + 2, fullState: 'true' });
      expect(names(refreshed)).to.deep.equal(['6002', '2000', '7000', '9999']);
    });

    it('sends full state after a NOTIFY the watcher refused, so no change is lost', async function () {
      const watcher = await UdpSipClient.open(server.udpPort);
      try {
        const dialog = (await watcher.subscribe({ user: 'sales', set: LIST_HEADERS })).dialog!;
        await dialog.nextNotify();
        let refused = 0;
        watcher.notifyAnswer = (notify) =>
          notify.callId === dialog.callId && refused++ === 0 ? { status: 500, reason: 'Busy', headers: ['Retry-After: 0'] } : { status: 200, reason: 'OK' };
        await change('CustomPresence:7000', 'away,,refused once');
        const refusedNotify = await dialog.nextNotify();
        expect(names(refusedNotify)).to.deep.equal(['7000']);
        const retry = await dialog.nextNotify(8000);
        expect(rlmi(retry)).to.deep.include({ version: rlmi(refusedNotify).version + 1, fullState: 'true' });
        expect(names(retry)).to.deep.equal(['6002', '2000', '7000', '9999']);
      } finally {
        await watcher.close();
      }
    });

    it('full_state=yes: every NOTIFY carries every resource', async function () {
      const dialog = (await subscribeList({ user: 'sales-full' })).dialog!;
      const first = rlmi(await dialog.nextNotify());
      await change('CustomPresence:2000', 'chat,,full every time');
      const next = await dialog.nextNotify();
      expect(rlmi(next)).to.deep.include({ version: first.version + 1, fullState: 'true' });
      expect(names(next)).to.deep.equal(['6002', '2000', '7000']);
    });
  });

  it('serves plain extensions as before', async function () {
    const { response } = await client.subscribe({ user: '6002' });
    expect(response.status).to.equal(200);
    expect(response.header('Require')).to.equal(undefined);
  });
});

describe('integration: resource lists across a restart', function () {
  this.timeout(30000);

  it('restores a list subscription and keeps its RLMI version rising', async function () {
    const dataDir = await makeTempDir();
    const port = await freePort();
    const options = { dataDir, udp: `127.0.0.1:${port}`, tcp: `127.0.0.1:${port}`, args: ['--pjsip', 'fixtures/lists/pjsip.conf'] };
    let server = await startServer(options);
    const client = await UdpSipClient.open(port);
    try {
      const dialog = (await client.subscribe({ user: 'sales', set: LIST_HEADERS })).dialog!;
      const before = rlmi(await dialog.nextNotify());
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.stop();
      server = await startServer(options);
      const after = rlmi(await dialog.nextNotify(8000));
      expect(after.version).to.be.above(before.version);
      expect(after.resources).to.have.length(4);
    } finally {
      await client.close();
      await server.stop();
      await removeDir(dataDir);
    }
  });
});
