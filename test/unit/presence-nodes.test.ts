import { expect } from 'chai';
import { PresenceService } from '../../lib/presence/presence-service.js';
import type { Publication } from '../../lib/presence/publications.js';
import { parsePresenceValue, type PresenceState } from '../../lib/presence/state.js';
import { MemoryBusHub } from '../../lib/store/memory-bus.js';
import { createMemoryStore } from '../../lib/store/memory-store.js';
import type { Store } from '../../lib/store/store.js';
import { createLogger } from '../../lib/util/log.js';

const PROVIDER = 'CustomPresence:6002';
const HOUR = 3_600_000;

/** Resolves once `done` holds; a deadline turns a lost change into a failure instead of a hang. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('presence/presence-service across nodes sharing a store and a change bus', () => {
  let store: Store;
  let nodes: PresenceService[];
  let heard: Map<PresenceService, PresenceState[]>;

  async function node(name: string, hub: MemoryBusHub): Promise<PresenceService> {
    const service = new PresenceService({ store, bus: hub.connect(), node: name, log: createLogger('error', () => undefined) });
    await service.load();
    heard.set(service, []);
    service.on('change', (_provider, state) => heard.get(service)!.push(state));
    return service;
  }

  beforeEach(async () => {
    store = createMemoryStore();
    heard = new Map();
    const hub = new MemoryBusHub();
    nodes = [await node('node-a', hub), await node('node-b', hub)];
  });

  afterEach(async () => {
    for (const service of nodes) service.stop();
    await store.close();
  });

  it('tells the other node of a CLI change, which re-reads it from the store', async () => {
    const [a, b] = nodes;
    await a.set('6002', parsePresenceValue('dnd,,in a meeting'));
    await until(() => b.stateOf(PROVIDER).state === 'dnd', 'node-b sees dnd');
    expect(b.stateOf(PROVIDER)).to.deep.equal({ state: 'dnd', subtype: '', message: 'in a meeting' });
    expect(heard.get(b)).to.deep.equal([{ state: 'dnd', subtype: '', message: 'in a meeting' }]);
    expect(b.list().map((record) => record.name)).to.deep.equal(['6002']);
  });

  it('tells the other node of a publication, its modification and its removal', async () => {
    const [a, b] = nodes;
    await a.set('6002', parsePresenceValue('available'));
    const published = (await b.publications.add('6002', { state: 'away', subtype: '', message: 'softphone' }, 'sip:6002@pbx', Date.now() + HOUR)) as Publication;
    await until(() => a.stateOf(PROVIDER).state === 'away', 'node-a sees the publication');
    const modified = await b.publications.update('6002', published.etag, { state: { state: 'xa', subtype: '', message: '' }, source: 'sip:6002@pbx', expiresAt: Date.now() + HOUR });
    await until(() => a.stateOf(PROVIDER).state === 'xa', 'node-a sees the modification');
    await b.publications.remove('6002', modified!.etag);
    await until(() => a.stateOf(PROVIDER).state === 'available', 'node-a falls back to the CLI setting');
    expect(heard.get(a)!.map((state) => state.state)).to.deep.equal(['available', 'away', 'xa', 'available']);
  });

  it('orders concurrent changes on both nodes alike: both end with the change that took the higher version', async () => {
    const [a, b] = nodes;
    for (let round = 0; round < 20; round++) {
      await Promise.all([a.set('6002', parsePresenceValue(`away,,a${round}`)), b.set('6002', parsePresenceValue(`dnd,,b${round}`))]);
    }
    const stored = await store.getPresence('6002');
    const expected = { state: stored!.state, subtype: stored!.subtype, message: stored!.message };
    await until(() => a.stateOf(PROVIDER).message === expected.message && b.stateOf(PROVIDER).message === expected.message, 'both nodes agree');
    expect(a.stateOf(PROVIDER)).to.deep.equal(expected);
    expect(b.stateOf(PROVIDER)).to.deep.equal(expected);
  });

  it('lets a later publication on one node win over an earlier CLI setting on the other, whatever the clocks say', async () => {
    const [a, b] = nodes;
    await b.publications.add('6002', { state: 'chat', subtype: '', message: '' }, 'sip:6002@pbx', Date.now() + HOUR);
    await a.set('6002', parsePresenceValue('unavailable'));
    await until(() => b.stateOf(PROVIDER).state === 'unavailable', 'node-b sees the later setting');
    expect(a.stateOf(PROVIDER).state).to.equal('unavailable');
  });
});
