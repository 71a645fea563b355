// baresip 1.0 against presenced: its presence module watches a presence-only hint, and `contacts` shows the status
// as presencestate moves through the seven states; then a hint with a device, as devicestate and a dialog PUBLISH
// move the device.
import { expect } from 'chai';
import type { PresenceServer } from '../../helpers/server.js';
import { Baresip } from '../helpers/baresip.js';
import { changeDevice, changeState, DEVICE_URI, DEVICE_WALK, publishDialogs, STATE_WALK, startInteropServer, WATCHED_URI } from '../helpers/interop-server.js';
import type { DeviceStateName, PresenceStateName } from '../helpers/interop-server.js';

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

/**
 * What baresip shows while the device of a hint with devices changes (the presence state not_set): the PIDF carries
 * basic open, closed for Busy and Unavailable as in Asterisk, and <rpid:on-the-phone/> while the device is in use,
 * rings or holds.
 */
const SHOWS_DEVICE: Record<DeviceStateName, string> = {
  INUSE: 'Busy',
  RINGING: 'Busy',
  ONHOLD: 'Busy',
  BUSY: 'Busy',
  UNAVAILABLE: 'Offline',
  NOT_INUSE: 'Online',
};

describe('interop: baresip watching a hint with devices', function () {
  let server: PresenceServer;
  let baresip: Baresip;
  let notifies = 0;

  before(async function () {
    server = await startInteropServer('blf');
    baresip = await Baresip.start([{ name: 'Lamp', uri: DEVICE_URI }]);
    notifies = 1;
    await baresip.waitForAnsweredNotifies(notifies, NOTIFY_TIMEOUT_MS);
  });

  after(async function () {
    await baresip?.stop();
    await server?.stop();
  });

  it('shows the idle device as Online', async function () {
    const [contact] = await baresip.contacts();
    expect(contact?.status, baresip.transcript()).to.equal('Online');
  });

  for (const state of DEVICE_WALK) {
    it(`shows ${SHOWS_DEVICE[state]} after devicestate change Custom:2000 ${state}`, async function () {
      await changeDevice(server, state);
      notifies += 1;
      await baresip.waitForAnsweredNotifies(notifies, NOTIFY_TIMEOUT_MS);
      const [contact] = await baresip.contacts();
      expect(contact?.status, baresip.transcript()).to.equal(SHOWS_DEVICE[state]);
    });
  }

  it('shows Busy while a phone publishes a held call (PUBLISH, Event: dialog), Online once it removes it', async function () {
    const publication = await publishDialogs('held');
    await baresip.waitForAnsweredNotifies(++notifies, NOTIFY_TIMEOUT_MS);
    expect((await baresip.contacts())[0]?.status, baresip.transcript()).to.equal('Busy');
    await publication.remove();
    await baresip.waitForAnsweredNotifies(++notifies, NOTIFY_TIMEOUT_MS);
    expect((await baresip.contacts())[0]?.status, baresip.transcript()).to.equal('Online');
  });
});
