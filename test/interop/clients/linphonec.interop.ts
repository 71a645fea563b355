// linphonec 5 against presenced: `friend add` subscribes to a presence-only hint, and linphonec prints the friend's
// status for every NOTIFY as presencestate moves through the seven states.
import { expect } from 'chai';
import type { PresenceServer } from '../../helpers/server.js';
import { changeState, STATE_WALK, startInteropServer, WATCHED_URI } from '../helpers/interop-server.js';
import type { PresenceStateName } from '../helpers/interop-server.js';
import { Linphonec } from '../helpers/linphonec.js';

/** What linphonec prints, as measured (docs/INTEROP.md); liblinphone maps RPID activities to its own statuses. */
const SHOWS: Record<PresenceStateName, string> = {
  not_set: 'Offline',
  unavailable: 'Offline',
  available: 'Online',
  away: 'Away',
  xa: 'Away',
  chat: 'Online',
  dnd: 'Busy',
};
const NOTIFY_TIMEOUT_MS = 8000;

describe('interop: linphonec', function () {
  let server: PresenceServer;
  let linphonec: Linphonec;
  let lines = 0;

  before(async function () {
    server = await startInteropServer();
    linphonec = await Linphonec.start();
  });

  after(async function () {
    await linphonec?.stop();
    await server?.stop();
  });

  it('subscribes to a friend and prints its initial state', async function () {
    linphonec.addFriend('Desk', WATCHED_URI);
    lines = 1;
    expect(await linphonec.nthStatus(lines, NOTIFY_TIMEOUT_MS)).to.equal(SHOWS.not_set);
  });

  for (const state of STATE_WALK) {
    it(`prints ${SHOWS[state]} for ${state}`, async function () {
      await changeState(server, state);
      lines += 1;
      expect(await linphonec.nthStatus(lines, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal(SHOWS[state]);
    });
  }
});
