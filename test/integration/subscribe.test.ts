// Accepting or refusing a new SUBSCRIBE: event package, Accept, dialplan lookup and expiry negotiation
// (RFC 6665 §4.2.1, RFC 3856 §6).
import { expect } from 'chai';
import { newTag, openClient } from '../helpers/sip-client.js';
import { forEachTransport, useServer, useSharedClient } from '../helpers/suite.js';
import { parsePidf, subscriptionState } from '../helpers/wire.js';

/** The `N active subscriptions` footer of `presencestate subscriptions`. */
function activeCount(listing: string): number {
  const match = /(\d+) active subscriptions?/.exec(listing);
  if (!match) throw new Error(`no subscription count in:\n${listing}`);
  return Number(match[1]);
}

describe('integration: SUBSCRIBE acceptance', function () {
  const server = useServer({ minExpires: 60, maxExpires: 3600 });

  forEachTransport(server, (client) => {
    it('answers a SUBSCRIBE without Event with 489 and Allow-Events: presence', async function () {
      const { response } = await client().subscribe({ set: { Event: null } });
      expect(response.status).to.equal(489);
      expect(response.headerValues('Allow-Events').map((event) => event.toLowerCase())).to.include('presence');
    });

    it('answers Event: message-summary with 489 and Allow-Events: presence, dialog', async function () {
      const { response } = await client().subscribe({ set: { Event: 'message-summary' } });
      expect(response.status).to.equal(489);
      expect(response.headerValues('Allow-Events').map((event) => event.toLowerCase())).to.include.members(['presence', 'dialog']);
    });

    it('answers a SUBSCRIBE accepting only dialog-info with 406 and an Accept naming PIDF', async function () {
      const { response } = await client().subscribe({ set: { Accept: 'application/dialog-info+xml' } });
      expect(response.status).to.equal(406);
      expect(response.headerValues('Accept').map((type) => type.toLowerCase())).to.include('application/pidf+xml');
    });

    const acceptable: Array<[string, string | null]> = [
      ['application/pidf+xml', 'application/pidf+xml'],
      ['*/*', '*/*'],
      ['application/*', 'application/*'],
      ['an empty Accept', ''],
      ['no Accept', null],
    ];
    for (const [title, accept] of acceptable) {
      it(`accepts a SUBSCRIBE with ${title}`, async function () {
        const { response } = await client().subscribe({ set: { Accept: accept } });
        expect(response.status).to.equal(200);
      });
    }

    it('answers an unknown extension with 404', async function () {
      expect((await client().subscribe({ user: '5555' })).response.status).to.equal(404);
    });

    it('finds an extension through include =>', async function () {
      expect((await client().subscribe({ user: '7000' })).response.status).to.equal(200);
    });

    it('answers an extension of a context that is not included with 404', async function () {
      expect((await client().subscribe({ user: '8000' })).response.status).to.equal(404);
    });

    it('answers an Expires below the minimum with 423 and Min-Expires', async function () {
      const { response } = await client().subscribe({ expires: 10 });
      expect(response.status).to.equal(423);
      expect(response.header('Min-Expires')).to.equal('60');
    });

    it('shortens an Expires above the maximum', async function () {
      const { response } = await client().subscribe({ expires: 99999 });
      expect(response.status).to.equal(200);
      expect(response.header('Expires')).to.equal('3600');
    });

    it('grants the default of 3600 s when Expires is missing (RFC 3856 §6.4)', async function () {
      const { response } = await client().subscribe({ expires: null });
      expect(response.status).to.equal(200);
      expect(response.header('Expires')).to.equal('3600');
    });

    it('answers with a To tag, Expires and Contact', async function () {
      const { response } = await client().subscribe({ expires: 600 });
      expect(response.status).to.equal(200);
      expect(response.toTag).to.be.a('string').and.not.be.empty;
      expect(response.header('Expires')).to.equal('600');
      expect(response.header('Contact')).to.match(/<sips?:[^>]+>|^sips?:/);
    });

    it('treats Expires: 0 as a fetch: one terminated NOTIFY and no subscription left (RFC 6665 §4.4.3)', async function () {
      const countBefore = activeCount((await server().cli(['subscriptions'])).stdout);
      const fromUser = `fetch-${newTag()}`;
      const { response, dialog } = await client().subscribe({ expires: 0, fromUser });
      expect(response.status).to.equal(200);
      if (!dialog) throw new Error('the 200 has no To tag');
      const notify = await dialog.nextNotify();
      expect(subscriptionState(notify)).to.include({ state: 'terminated', reason: 'timeout' });
      expect(parsePidf(notify.body).entity).to.equal('sip:6002@127.0.0.1');
      await dialog.expectNoNotify(700);
      const listing = await server().cli(['subscriptions']);
      expect(listing.code).to.equal(0);
      expect(listing.stdout).not.to.include(fromUser);
      expect(activeCount(listing.stdout)).to.equal(countBefore);
    });
  });

  describe('with --context internal', function () {
    const internal = useServer({ context: 'internal' });
    const client = useSharedClient(() => openClient('UDP', internal()));

    it('resolves extensions in that context', async function () {
      expect((await client().subscribe({ user: '9000' })).response.status).to.equal(200);
    });

    it('no longer resolves extensions of the default context', async function () {
      expect((await client().subscribe({ user: '6002' })).response.status).to.equal(404);
    });
  });
});
