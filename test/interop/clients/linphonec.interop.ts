// linphonec 5 against presenced: `friend add` subscribes to a presence-only hint, and linphonec prints the friend's
// status for every NOTIFY as presencestate moves through the seven states; then a hint with a device, as devicestate
// and a dialog PUBLISH move the device; then a friend list subscribed through the RLS URI (RFC 5367).
import { expect } from 'chai';
import type { PresenceServer } from '../../helpers/server.js';
import { changeDevice, changeState, DEVICE_URI, DEVICE_WALK, publishDialogs, STATE_WALK, startInteropServer, WATCHED_URI } from '../helpers/interop-server.js';
import type { DeviceStateName, PresenceStateName } from '../helpers/interop-server.js';
import { Linphonec } from '../helpers/linphonec.js';
import { HOST, SIP_PORTS } from '../helpers/ports.js';

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

/** What linphonec prints while the device of a hint with devices changes (the presence state not_set). */
const SHOWS_DEVICE: Record<DeviceStateName, string> = {
  INUSE: 'On the phone',
  RINGING: 'On the phone',
  ONHOLD: 'On the phone',
  BUSY: 'On the phone',
  UNAVAILABLE: 'Offline',
  NOT_INUSE: 'Online',
};

describe('interop: linphonec watching a hint with devices', function () {
  let server: PresenceServer;
  let linphonec: Linphonec;
  let lines = 0;

  before(async function () {
    server = await startInteropServer('blf');
    linphonec = await Linphonec.start();
  });

  after(async function () {
    await linphonec?.stop();
    await server?.stop();
  });

  it('subscribes to the hint and prints the idle device as Online', async function () {
    linphonec.addFriend('Lamp', DEVICE_URI);
    lines = 1;
    expect(await linphonec.nthStatus(lines, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('Online');
  });

  for (const state of DEVICE_WALK) {
    it(`prints ${SHOWS_DEVICE[state]} after devicestate change Custom:2000 ${state}`, async function () {
      await changeDevice(server, state);
      lines += 1;
      expect(await linphonec.nthStatus(lines, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal(SHOWS_DEVICE[state]);
    });
  }

  it('prints On the phone while a phone publishes a held call (PUBLISH, Event: dialog), Online once it removes it', async function () {
    const publication = await publishDialogs('held');
    expect(await linphonec.nthStatus(++lines, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('On the phone');
    await publication.remove();
    expect(await linphonec.nthStatus(++lines, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('Online');
  });
});

// linphonec with a resource list server (`rls_uri`): liblinphone sends its whole friend list in one deflated
// SUBSCRIBE (RFC 5367) and reads every friend's state out of the RLMI NOTIFYs; a friend without a hint stays silent.
describe('interop: linphonec friend list through the RLS URI', function () {
  let server: PresenceServer;
  let linphonec: Linphonec;
  const friends = [
    { name: 'Desk', uri: `sip:2000@${HOST}` },
    { name: 'Lab', uri: `sip:7000@${HOST}` },
    { name: 'Ghost', uri: `sip:6001@${HOST}` },
  ];

  before(async function () {
    server = await startInteropServer();
    for (const [entity, value] of [['CustomPresence:2000', 'available'], ['CustomPresence:7000', 'dnd,,In a meeting']]) {
      const result = await server.cli(['change', entity!, value!]);
      expect(result.code, result.stderr).to.equal(0);
    }
    linphonec = await Linphonec.start({ rlsUri: `sip:rls@${HOST}:${SIP_PORTS.server}`, friends });
  });

  after(async function () {
    await linphonec?.stop();
    await server?.stop();
  });

  it("shows every friend's state from the list's first NOTIFY", async function () {
    expect(await linphonec.nthStatusOf('Desk', 1, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('Online');
    expect(await linphonec.nthStatusOf('Lab', 1, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('Busy');
  });

  it('shows a change of one friend, and only that friend', async function () {
    const result = await server.cli(['change', 'CustomPresence:7000', 'away,,Back soon']);
    expect(result.code, result.stderr).to.equal(0);
    expect(await linphonec.nthStatusOf('Lab', 2, NOTIFY_TIMEOUT_MS), linphonec.transcript()).to.equal('Away');
    expect(linphonec.statusesOf('Desk')).to.deep.equal(['Online']);
    expect(linphonec.statusesOf('Ghost'), 'a friend without a hint is rejected in the RLMI').to.deep.equal([]);
  });
});
