// baresip 1.0 against presenced: its presence module watches a presence-only hint, and `contacts` shows the status
// as presencestate moves through the seven states.
import { expect } from 'chai';
import type { PresenceServer } from '../../helpers/server.js';
import { Baresip } from '../helpers/baresip.js';
import { changeState, STATE_WALK, startInteropServer, WATCHED_URI } from '../helpers/interop-server.js';
import type { PresenceStateName } from '../helpers/interop-server.js';

/**
 * What baresip shows, as measured (docs/INTEROP.md). baresip reads the first <basic> (open → Online, closed →
 * Offline), then <rpid:away/> → Offline and <rpid:busy/> or <rpid:on-the-phone/> → Busy.
 */
const SHOWS: Record<PresenceStateName, string> = {
  not_set: 'Offline',
  unavailable: 'Offline',
  available: 'Online',
  away: 'Offline',
  xa: 'Offline',
  chat: 'Online',
  dnd: 'Busy',
};
const NOTIFY_TIMEOUT_MS = 5000;

describe('interop: baresip', function () {
  let server: PresenceServer;
  let baresip: Baresip;
  let notifies = 0;

  before(async function () {
    server = await startInteropServer();
    baresip = await Baresip.start([{ name: 'Desk', uri: WATCHED_URI }]);
    // the presence module subscribes a second after start; the first NOTIFY carries the initial not_set
    notifies = 1;
    await baresip.waitForAnsweredNotifies(notifies, NOTIFY_TIMEOUT_MS);
  });

  after(async function () {
    await baresip?.stop();
    await server?.stop();
  });

  it('subscribes to the contact and shows its initial state', async function () {
    const contacts = await baresip.contacts();
    expect(contacts.map(({ uri, status }) => ({ uri, status }))).to.deep.equal([{ uri: WATCHED_URI, status: SHOWS.not_set }]);
  });

  for (const state of STATE_WALK) {
    it(`shows ${SHOWS[state]} for ${state}`, async function () {
      await changeState(server, state);
      notifies += 1;
      await baresip.waitForAnsweredNotifies(notifies, NOTIFY_TIMEOUT_MS);
      const [contact] = await baresip.contacts();
      expect(contact?.status, baresip.transcript()).to.equal(SHOWS[state]);
    });
  }
});
