// PUBLISH with `Event: dialog` (RFC 3903 with RFC 4235 bodies) over real sockets: the published dialogs are one more
// device of the Request-URI's hint, seen by dialog and presence watchers, with entity-tags, refresh, modification,
// removal, expiry, refusals of bad bodies, a restart, and digest authentication for the publisher's own extension.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { authorization, parseChallenge } from '../helpers/digest.js';
import { dialogInfoSchemaErrors, parseDialogInfo, type DialogInfo } from '../helpers/dialog-info.js';
import { entityTagOf, publish, type PublishOptions } from '../helpers/publish.js';
import { freePort, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { useServer, useSharedClient } from '../helpers/suite.js';
import { openClient, type SipClient, type WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf, type SipMessage } from '../helpers/wire.js';

const MIN_EXPIRES = 2;
const DIALOG_INFO = 'application/dialog-info+xml';

function fixture(name: string): string {
  return readFileSync(`fixtures/dialog-publish/${name}.xml`, 'utf8');
}

/** A PUBLISH of dialog-info (`body` '' leaves it out). */
function publishDialog(client: SipClient, options: PublishOptions): Promise<SipMessage> {
  return publish(client, { event: 'dialog', contentType: DIALOG_INFO, ...options });
}

function readDialog(notify: SipMessage): DialogInfo['dialogs'][number] {
  expect(notify.header('Content-Type')).to.equal(DIALOG_INFO);
  expect(dialogInfoSchemaErrors(notify.body), notify.body).to.equal('');
  const { dialogs } = parseDialogInfo(notify.body);
  expect(dialogs).to.have.lengthOf(1);
  return dialogs[0]!;
}

async function extensionState(server: PresenceServer, exten: string): Promise<string> {
  const line = (await server.cli(['hints'])).stdout.split('\n').find((candidate) => candidate.startsWith(`${exten}@default`)) ?? '';
  return /State:(\S+)/.exec(line)?.[1] ?? `no hint ${exten}`;
}

async function lamp(client: SipClient, user: string): Promise<WatcherDialog> {
  const dialog = await client.subscribeDialog({ user, set: { Event: 'dialog', Accept: DIALOG_INFO } });
  expect(readDialog(await dialog.nextNotify()).state).to.equal('terminated');
  return dialog;
}

describe('integration: PUBLISH of dialogs (Event: dialog)', function () {
  this.timeout(30000);

  describe('on one server', function () {
    const server = useServer({ config: 'fixtures/integration/blf.conf', minExpires: MIN_EXPIRES });
    const client = useSharedClient(() => openClient('UDP', server()));

    for (const transport of ['UDP', 'TCP'] as const) {
      it(`runs the life cycle over ${transport}: initial, refresh, modify, remove — each seen by the hint's BLF watchers`, async function () {
        const publisher = await openClient(transport, server());
        try {
          const watcher = await lamp(client(), '2001');
          const initial = await publishDialog(publisher, { user: '2001', body: fixture('kamailio-early') });
          const etag = entityTagOf(initial, 600);
          expect(readDialog(await watcher.nextNotify())).to.include({ state: 'early', direction: 'recipient' });
          expect(await extensionState(server(), '2001')).to.equal('Ringing');

          const refreshed = entityTagOf(await publishDialog(publisher, { user: '2001', etag, expires: 300 }), 300);
          expect(refreshed).to.not.equal(etag);
          await watcher.expectNoNotify(500);

          const modified = entityTagOf(await publishDialog(publisher, { user: '2001', etag: refreshed, body: fixture('kamailio-confirmed') }), 600);
          expect(readDialog(await watcher.nextNotify()).state).to.equal('confirmed');
          expect(await extensionState(server(), '2001')).to.equal('InUse');
          expect((await publishDialog(publisher, { user: '2001', etag: refreshed, body: fixture('held') })).status, 'the replaced tag').to.equal(412);

          expect((await publishDialog(publisher, { user: '2001', etag: modified, expires: 0 })).status).to.equal(200);
          expect(readDialog(await watcher.nextNotify()).state).to.equal('terminated');
          expect(await extensionState(server(), '2001')).to.equal('Idle');
        } finally {
          await publisher.close();
        }
      });
    }

    it("combines the published dialogs with the hint's own devices by Asterisk's rules", async function () {
      const watcher = await lamp(client(), '2000');
      expect((await server().devicestate(['change', 'Custom:2000', 'INUSE'])).code).to.equal(0);
      expect(readDialog(await watcher.nextNotify()).state).to.equal('confirmed');
      const etag = entityTagOf(await publishDialog(client(), { user: '2000', body: fixture('kamailio-early') }), 600);
      expect(readDialog(await watcher.nextNotify()), 'InUse&Ringing is early: the ringing call can be picked up').to.include({ state: 'early', direction: 'recipient' });
      expect(await extensionState(server(), '2000')).to.equal('InUse&Ringing');
      // Two publishers of one extension (a desk phone and a softphone) add up too.
      const second = entityTagOf(await publishDialog(client(), { user: '2000', body: fixture('held') }), 600);
      await publishDialog(client(), { user: '2000', etag, expires: 0 });
      // The held call and the removal may arrive as one NOTIFY or two (coalescing): the last one counts.
      let state = readDialog(await watcher.nextNotify()).state;
      if (state === 'early') state = readDialog(await watcher.nextNotify()).state;
      expect(state).to.equal('confirmed');
      expect(await extensionState(server(), '2000'), 'INUSE and ONHOLD: in use').to.equal('InUse');
      await publishDialog(client(), { user: '2000', etag: second, expires: 0 });
      expect((await server().devicestate(['change', 'Custom:2000', 'NOT_INUSE'])).code).to.equal(0);
    });

    it('lets the published device go when the publication expires, telling dialog and presence watchers', async function () {
      const watcher = await lamp(client(), '5000');
      const presence = await client().subscribeDialog({ user: '5000' });
      await presence.nextNotify();
      entityTagOf(await publishDialog(client(), { user: '5000', expires: MIN_EXPIRES, body: fixture('kamailio-confirmed') }), MIN_EXPIRES);
      expect(readDialog(await watcher.nextNotify()).state).to.equal('confirmed');
      expect(parsePidf((await presence.nextNotify()).body).notes).to.deep.equal(['On the phone']);
      // Nothing more is sent: the expiry alone ends the call on the lamp.
      expect(readDialog(await watcher.nextNotify(MIN_EXPIRES * 1000 + 3000)).state).to.equal('terminated');
      expect(parsePidf((await presence.nextNotify()).body).notes).to.not.include('On the phone');
      expect(await extensionState(server(), '5000')).to.equal('Idle');
    });

    it('answers 400 with a reason to bad bodies and 415 to other types, and stores nothing', async function () {
      const watcher = await lamp(client(), '2001');
      const bad: Array<[string, RegExp]> = [
        ['<dialog-info', /^Bad Request \(Malformed dialog-info \(line \d+\)/],
        [fixture('kamailio-early').replace('state="full"', 'state="partial"'), /^Bad Request \(Malformed dialog-info: state 'partial' is not accepted/],
        [fixture('kamailio-early').replace('<state>early</state>', '<state>ringing</state>'), /has no state of trying, proceeding, early, confirmed, terminated/],
        [fixture('kamailio-early').replace(/ id="[^"]*"/, ''), /a dialog has no id/],
        ['<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:2001@127.0.0.1"/>', /no dialog-info element/],
      ];
      for (const [body, reason] of bad) {
        const response = await publishDialog(client(), { user: '2001', body });
        expect(response.status, body).to.equal(400);
        expect(response.reason, body).to.match(reason);
      }
      const wrongType = await publishDialog(client(), { user: '2001', body: fixture('kamailio-early'), contentType: 'application/pidf+xml' });
      expect(wrongType.status).to.equal(415);
      expect(wrongType.header('Accept')).to.equal(DIALOG_INFO);
      const noBody = await publishDialog(client(), { user: '2001' });
      expect([noBody.status, noBody.reason]).to.deep.equal([400, 'Bad Request (an initial PUBLISH needs a dialog-info body)']);
      await watcher.expectNoNotify(500);
      expect(await extensionState(server(), '2001')).to.equal('Idle');
      expect(server().stderr()).to.not.match(/uncaught|unhandled/i);
    });

    it('answers 404 for an extension without a hint, 412 for an unknown entity-tag, and names dialog in Allow-Events', async function () {
      const unknown = await publishDialog(client(), { user: '9999', body: fixture('kamailio-early') });
      expect([unknown.status, unknown.reason]).to.deep.equal([404, 'Not Found (no hint for this extension)']);
      expect((await publishDialog(client(), { user: '2001', etag: 'nosuchtag', body: fixture('kamailio-early') })).status).to.equal(412);
      const other = await publish(client(), { user: '2001', event: 'message-summary', body: 'x', contentType: 'text/plain' });
      expect(other.status).to.equal(489);
      expect(other.header('Allow-Events')).to.equal('presence, dialog');
    });

    it('gives a hint without devices a published device of its own', async function () {
      const watcher = await lamp(client(), '4000');
      const etag = entityTagOf(await publishDialog(client(), { user: '4000', body: fixture('outgoing-early') }), 600);
      expect(readDialog(await watcher.nextNotify()).state, 'an outgoing call being set up is in use').to.equal('confirmed');
      await publishDialog(client(), { user: '4000', etag, expires: 0 });
      expect(readDialog(await watcher.nextNotify()).state).to.equal('terminated');
    });
  });

  describe('across a restart', function () {
    let dataDir: string;
    let server: PresenceServer | undefined;

    after(async function () {
      await server?.stop();
      if (dataDir) await removeDir(dataDir);
    });

    it('keeps a publication and its entity-tag', async function () {
      dataDir = await makeTempDir();
      const port = await freePort();
      const start = async (): Promise<PresenceServer> =>
        (server = await startServer({ config: 'fixtures/integration/blf.conf', dataDir, udp: `127.0.0.1:${port}`, tcp: `127.0.0.1:${port}` }));
      await start();
      let client = await openClient('UDP', server!);
      const etag = entityTagOf(await publishDialog(client, { user: '2001', body: fixture('held') }), 600);
      expect(await extensionState(server!, '2001')).to.equal('Hold');
      await client.close();
      expect((await server!.stop('SIGTERM')).code).to.equal(0);
      await start();
      expect(await extensionState(server!, '2001')).to.equal('Hold');
      client = await openClient('UDP', server!);
      try {
        expect((await publishDialog(client, { user: '2001', etag, expires: 0 })).status).to.equal(200);
        expect(await extensionState(server!, '2001')).to.equal('Idle');
      } finally {
        await client.close();
      }
    });
  });

  describe('with digest authentication (--pjsip)', function () {
    const server = useServer({ config: 'fixtures/extensions.conf', args: ['--pjsip', 'fixtures/security/pjsip.conf'] });
    const client = useSharedClient(() => openClient('UDP', server()));

    async function publishAs(username: string, user: string): Promise<SipMessage> {
      const body = fixture('kamailio-confirmed').replaceAll('2000', user);
      const request = (set: Record<string, string>, cseq: number): string =>
        client().buildRequest('PUBLISH', { user, fromUser: username, cseq, body, set: { 'Content-Type': DIALOG_INFO, ...set } }, [['Event', 'dialog'], ['Expires', '60']]);
      const first = await client().request(request({}, 1));
      expect(first.status).to.equal(401);
      const challenge = parseChallenge(first.header('WWW-Authenticate')!);
      const header = authorization(challenge, { username, password: `${username}-demo-secret`, method: 'PUBLISH', uri: `sip:${user}@127.0.0.1:${client().serverPort}` });
      return client().request(request({ Authorization: header }, 2));
    }

    it("lets an endpoint publish its own dialogs and refuses someone else's with 403", async function () {
      expect((await publishAs('6001', '6001')).status).to.equal(200);
      expect(await extensionState(server(), '6001')).to.equal('InUse');
      const other = await publishAs('6001', '6002');
      expect(other.status).to.equal(403);
      expect(other.reason).to.match(/own presence/);
      expect(await extensionState(server(), '6002')).to.equal('Idle');
    });
  });
});
