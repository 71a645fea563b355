import { expect } from 'chai';
import { PresenceService } from '../../lib/presence/presence-service.js';
import type { Publication } from '../../lib/presence/publications.js';
import { parsePresenceValue, type PresenceState } from '../../lib/presence/state.js';
import { createMemoryStore } from '../../lib/store/memory-store.js';
import { createMemoryBus } from '../../lib/store/memory-bus.js';
import type { PresenceRecord, Store } from '../../lib/store/store.js';
import { createLogger } from '../../lib/util/log.js';

const HOUR = 3_600_000;
const PROVIDER = 'CustomPresence:6002';
const DESK: PresenceState = Object.freeze({ state: 'dnd', subtype: '', message: 'desk phone' });
const SOFTPHONE: PresenceState = Object.freeze({ state: 'away', subtype: '', message: 'softphone' });

interface Change { provider: string; state: PresenceState; record: PresenceRecord }

describe('presence/presence-service aggregation of publications', () => {
  let store: Store;
  let presence: PresenceService;
  let changes: Change[];

  async function openService(): Promise<PresenceService> {
    const service = new PresenceService({ store, bus: createMemoryBus(), node: 'node-a', log: createLogger('error', () => undefined) });
    await service.load();
    service.on('change', (provider, state, record) => changes.push({ provider, state, record }));
    return service;
  }

  beforeEach(async () => {
    store = createMemoryStore();
    changes = [];
    presence = await openService();
  });

  afterEach(async () => {
    presence.stop();
    await store.close();
  });

  function publish(state: PresenceState, expiresAt = Date.now() + HOUR) {
    return presence.publications.add('6002', state, 'sip:6002@pbx', expiresAt).then((publication) => publication as Publication);
  }

  it('is not_set without any source', () => {
    expect(presence.stateOf(PROVIDER)).to.deep.equal({ state: 'not_set', subtype: '', message: '' });
  });

  it('lets the most recently changed source win: publication, then CLI, then a modification', async () => {
    await presence.set('6002', parsePresenceValue('xa,,cli'));
    const desk = await publish(DESK);
    expect(presence.stateOf(PROVIDER)).to.deep.equal(DESK);
    await presence.set('6002', parsePresenceValue('chat,,cli again'));
    expect(presence.stateOf(PROVIDER)).to.deep.equal({ state: 'chat', subtype: '', message: 'cli again' });
    await presence.publications.update('6002', desk.etag, { state: SOFTPHONE, source: 'sip:6002@pbx', expiresAt: Date.now() + HOUR });
    expect(presence.stateOf(PROVIDER)).to.deep.equal(SOFTPHONE);
  });

  it('does not let a refresh, or a modification to the same state, take precedence back', async () => {
    const desk = await publish(DESK);
    await presence.set('6002', parsePresenceValue('available'));
    const refreshed = await presence.publications.update('6002', desk.etag, { source: 'sip:6002@pbx', expiresAt: Date.now() + HOUR });
    await presence.publications.update('6002', refreshed!.etag, { state: { ...DESK }, source: 'sip:6002@pbx', expiresAt: Date.now() + HOUR });
    expect(presence.stateOf(PROVIDER).state).to.equal('available');
  });

  it('falls back to the next most recent source when the winner is removed', async () => {
    await presence.set('6002', parsePresenceValue('xa,,cli'));
    const desk = await publish(DESK);
    const softphone = await publish(SOFTPHONE);
    expect(presence.stateOf(PROVIDER)).to.deep.equal(SOFTPHONE);
    await presence.publications.remove('6002', softphone.etag);
    expect(presence.stateOf(PROVIDER)).to.deep.equal(DESK);
    await presence.publications.remove('6002', desk.etag);
    expect(presence.stateOf(PROVIDER)).to.deep.equal({ state: 'xa', subtype: '', message: 'cli' });
  });

  it('goes back to not_set when the last publication of a name without a CLI setting ends', async () => {
    const desk = await publish(DESK);
    await presence.publications.remove('6002', desk.etag);
    expect(presence.stateOf(PROVIDER)).to.deep.equal({ state: 'not_set', subtype: '', message: '' });
    expect(changes.map((change) => change.state.state)).to.deep.equal(['dnd', 'not_set']);
  });

  it('emits change with the new effective state only when it changes', async () => {
    const desk = await publish(DESK);
    const softphone = await publish(SOFTPHONE);
    await presence.publications.remove('6002', desk.etag); // not the winner: nothing to tell
    await presence.publications.update('6002', softphone.etag, { source: 'x', expiresAt: Date.now() + HOUR }); // a refresh
    expect(changes.map(({ provider, state }) => [provider, state])).to.deep.equal([[PROVIDER, DESK], [PROVIDER, SOFTPHONE]]);
    expect(changes[1]!.record).to.deep.include({ name: '6002', state: 'away', message: 'softphone', base64: false });
  });

  it('keeps the same state object while the effective state does not change', async () => {
    await publish(DESK);
    const before = presence.stateOf(PROVIDER);
    await publish({ ...DESK });
    expect(presence.stateOf(PROVIDER)).to.equal(before);
  });

  it('still notifies every CLI change, with the CLI record', async () => {
    await presence.set('6002', parsePresenceValue('away'));
    const record = await presence.set('6002', parsePresenceValue('away'));
    expect(changes).to.have.lengthOf(2);
    expect(changes[1]!.record).to.equal(record);
  });

  it('notifies the state that counts next when the winning publication expires', async () => {
    await presence.set('6002', parsePresenceValue('dnd,,cli'));
    await publish(SOFTPHONE, Date.now() + 30);
    changes = [];
    await new Promise<void>((resolve) => presence.once('change', () => resolve()));
    expect(changes.map(({ provider, state }) => [provider, state])).to.deep.equal([[PROVIDER, { state: 'dnd', subtype: '', message: 'cli' }]]);
  });

  it('lists the CLI settings only', async () => {
    await presence.set('6002', parsePresenceValue('xa'));
    await publish(DESK);
    await presence.publications.add('7000', DESK, 'sip:7000@pbx', Date.now() + HOUR);
    expect(presence.list().map(({ name, state }) => [name, state])).to.deep.equal([['6002', 'xa']]);
    expect(presence.stateOf('CustomPresence:7000')).to.deep.equal(DESK);
  });

  it('restores the effective states by the same rule after a restart', async () => {
    await publish(DESK);
    await presence.set('6002', parsePresenceValue('xa,,cli'));
    await presence.publications.add('7000', SOFTPHONE, 'sip:7000@pbx', Date.now() + HOUR);
    await presence.set('8000', parsePresenceValue('chat'));
    await presence.publications.add('8000', DESK, 'sip:8000@pbx', Date.now() + HOUR);
    presence.stop();

    const restarted = await openService();
    try {
      expect(restarted.stateOf(PROVIDER)).to.deep.equal({ state: 'xa', subtype: '', message: 'cli' });
      expect(restarted.stateOf('CustomPresence:7000')).to.deep.equal(SOFTPHONE);
      expect(restarted.stateOf('CustomPresence:8000')).to.deep.equal(DESK);
      // Stamps keep increasing across the restart: a new CLI change wins over everything loaded.
      await restarted.set('8000', parsePresenceValue('available'));
      expect(restarted.stateOf('CustomPresence:8000').state).to.equal('available');
    } finally {
      restarted.stop();
    }
  });
});
