import { expect } from 'chai';
import { DEFAULT_PUBLICATION_CAPS, presencePublicationStorage, Publications, type Publication } from '../../lib/presence/publications.js';
import type { PresenceState } from '../../lib/presence/state.js';
import { createMemoryStore } from '../../lib/store/memory-store.js';
import type { PublicationRecord, Store } from '../../lib/store/store.js';
import { createLogger } from '../../lib/util/log.js';

const AWAY: PresenceState = Object.freeze({ state: 'away', subtype: '', message: 'lunch' });
const DND: PresenceState = Object.freeze({ state: 'dnd', subtype: 'meeting', message: '' });
const SOURCE = 'sip:6002@pbx (Linphone/5.2)';
const HOUR = 3_600_000;

describe('presence/publications', () => {
  let store: Store;
  let publications: Publications;
  let changes: string[];
  let stamp: number;

  function open(over: Store): Publications {
    return new Publications(presencePublicationStorage(over), (name) => changes.push(name), async () => ({ at: ++stamp, version: stamp }), createLogger('error', () => undefined));
  }

  beforeEach(() => {
    store = createMemoryStore();
    changes = [];
    stamp = 1000;
    publications = open(store);
  });

  afterEach(async () => {
    publications.stop();
    await store.close();
  });

  /** Resolves once `changed` has been called for `name` again. */
  function nextChange(name: string): Promise<void> {
    const seen = changes.length;
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (changes.slice(seen).includes(name)) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
  }

  it('adds a publication under a fresh entity-tag, durably, then reports the change', async () => {
    const expiresAt = Date.now() + HOUR;
    const added = (await publications.add('6002', { ...AWAY }, SOURCE, expiresAt)) as Publication;
    expect(added).to.deep.include({ name: '6002', state: AWAY, source: SOURCE, changedAt: 1001, expiresAt });
    expect(Object.isFrozen(added!.state)).to.equal(true);
    expect(added!.etag).to.match(/^[0-9a-f]{16}$/);
    expect(publications.live('6002')).to.deep.equal([added]);
    expect(changes).to.deep.equal(['6002']);
    expect(await store.loadPublications()).to.deep.equal([{
      etag: added!.etag, name: '6002', state: 'away', subtype: '', message: 'lunch', source: SOURCE, changedAt: 1001, expiresAt, version: 1001, address: '',
    }]);
  });

  it('gives each publication its own entity-tag and keeps names apart', async () => {
    const first = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    const second = (await publications.add('6002', DND, SOURCE, Date.now() + HOUR)) as Publication;
    const other = (await publications.add('7000', DND, SOURCE, Date.now() + HOUR)) as Publication;
    expect(new Set([first!.etag, second!.etag, other!.etag]).size).to.equal(3);
    expect(publications.live('6002')).to.deep.equal([first, second]);
    expect([...publications.names()]).to.deep.equal(['6002', '7000']);
  });

  it('refreshes under a new entity-tag, keeping the state and when it changed', async () => {
    const added = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    const expiresAt = Date.now() + 2 * HOUR;
    const refreshed = (await publications.update('6002', added.etag, { source: 'sip:6002@pbx (other)', expiresAt }))!;
    expect(refreshed.etag).not.to.equal(added.etag);
    expect(refreshed).to.deep.include({ state: AWAY, changedAt: added.changedAt, expiresAt, source: 'sip:6002@pbx (other)' });
    expect(publications.live('6002')).to.deep.equal([refreshed]);
    expect((await store.loadPublications()).map((record) => record.etag)).to.deep.equal([refreshed.etag]);
  });

  it('moves changedAt on a modification only when the state really changes', async () => {
    const added = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    const same = (await publications.update('6002', added.etag, { state: { ...AWAY }, source: SOURCE, expiresAt: Date.now() + HOUR }))!;
    expect(same.changedAt).to.equal(added.changedAt);
    const modified = (await publications.update('6002', same.etag, { state: DND, source: SOURCE, expiresAt: Date.now() + HOUR }))!;
    expect(modified).to.deep.include({ state: DND });
    expect(modified.changedAt).to.be.greaterThan(added.changedAt);
    expect((await store.loadPublications())[0]).to.deep.include({ etag: modified.etag, state: 'dnd', subtype: 'meeting' });
  });

  it('refuses entity-tags that are unknown, retired or of another name', async () => {
    const added = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    const refreshed = (await publications.update('6002', added.etag, { source: SOURCE, expiresAt: Date.now() + HOUR }))!;
    changes = [];
    const update = { source: SOURCE, expiresAt: Date.now() + HOUR };
    expect(await publications.update('6002', 'unknown', update)).to.equal(undefined);
    expect(await publications.update('6002', added.etag, update)).to.equal(undefined);
    expect(await publications.update('7000', refreshed.etag, update)).to.equal(undefined);
    expect(await publications.remove('7000', refreshed.etag)).to.equal(undefined);
    expect(changes).to.deep.equal([]);
    expect(publications.live('6002')).to.deep.equal([refreshed]);
  });

  it('removes a publication from memory and store', async () => {
    const added = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    expect(await publications.remove('6002', added.etag)).to.equal(added);
    expect(publications.live('6002')).to.deep.equal([]);
    expect([...publications.names()]).to.deep.equal([]);
    expect(await store.loadPublications()).to.deep.equal([]);
    expect(changes).to.deep.equal(['6002', '6002']);
  });

  it('lets only one of two concurrent updates of one entity-tag succeed', async () => {
    const added = (await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)) as Publication;
    const update = { state: DND, source: SOURCE, expiresAt: Date.now() + HOUR };
    const results = await Promise.all([publications.update('6002', added.etag, update), publications.update('6002', added.etag, update)]);
    expect(results.filter((result) => result !== undefined)).to.have.lengthOf(1);
    expect(publications.live('6002')).to.have.lengthOf(1);
  });

  it('expires a publication at its deadline: gone from memory and store, change reported', async () => {
    const kept = (await publications.add('6002', DND, SOURCE, Date.now() + HOUR)) as Publication;
    const changed = nextChange('6002');
    await publications.add('6002', AWAY, SOURCE, Date.now() + 30);
    await changed; // the add itself
    await nextChange('6002');
    expect(publications.live('6002')).to.deep.equal([kept]);
    expect((await store.loadPublications()).map((record) => record.etag)).to.deep.equal([kept!.etag]);
  });

  it('refuses more than maxPublicationsPerPresentity for one name', async () => {
    for (let i = 0; i < DEFAULT_PUBLICATION_CAPS.maxPublicationsPerPresentity; i++) await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR);
    expect(await publications.add('6002', AWAY, SOURCE, Date.now() + HOUR)).to.include({ status: 403 });
    expect(await publications.add('7000', AWAY, SOURCE, Date.now() + HOUR)).to.have.property('etag');
  });

  it('changes nothing when the store fails', async () => {
    const failing: Store = Object.assign(Object.create(store) as Store, {
      savePublication: () => Promise.reject(new Error('disk full')),
      deletePublication: () => Promise.reject(new Error('disk full')),
    });
    const fragile = open(failing);
    let failure: unknown;
    await fragile.add('6002', AWAY, SOURCE, Date.now() + HOUR).catch((error: unknown) => (failure = error));
    expect((failure as Error).message).to.equal('disk full');
    expect(fragile.live('6002')).to.deep.equal([]);
    expect(changes).to.deep.equal([]);
    // A failed change does not block the ones queued behind it.
    expect(await fragile.update('6002', 'unknown', { source: SOURCE, expiresAt: Date.now() + HOUR })).to.equal(undefined);
    fragile.stop();
  });

  describe('load', () => {
    function record(etag: string, expiresAt: number): PublicationRecord {
      return { etag, name: '6002', state: 'xa', subtype: 'travel', message: 'abroad', source: SOURCE, changedAt: 5, expiresAt, version: 5, address: '192.0.2.10' };
    }

    it('restores live publications, frozen, and purges expired ones from the store', async () => {
      await store.savePublication(record('live', Date.now() + HOUR));
      await store.savePublication(record('expired', Date.now() - 1));
      await publications.load();
      expect(publications.live('6002')).to.have.lengthOf(1);
      const [restored] = publications.live('6002');
      expect(restored).to.deep.include({ etag: 'live', state: { state: 'xa', subtype: 'travel', message: 'abroad' }, changedAt: 5 });
      expect(Object.isFrozen(restored!.state)).to.equal(true);
      expect((await store.loadPublications()).map((entry) => entry.etag)).to.deep.equal(['live']);
      expect(changes).to.deep.equal([]);
    });

    it('counts restored publications against the per-source cap of the address they came from', async () => {
      const capped = new Publications(presencePublicationStorage(store), (name) => changes.push(name), async () => ({ at: ++stamp, version: stamp }),
        createLogger('error', () => undefined), { ...DEFAULT_PUBLICATION_CAPS, maxPublicationsPerSource: 2 });
      try {
        await capped.add('6002', AWAY, SOURCE, Date.now() + HOUR, '192.0.2.10');
        await capped.add('6002', AWAY, SOURCE, Date.now() + HOUR, '192.0.2.10');
      } finally {
        capped.stop();
      }
      // After a restart, the two stored ones still count for 192.0.2.10, and for no one else.
      const restarted = new Publications(presencePublicationStorage(store), (name) => changes.push(name), async () => ({ at: ++stamp, version: stamp }),
        createLogger('error', () => undefined), { ...DEFAULT_PUBLICATION_CAPS, maxPublicationsPerSource: 2 });
      try {
        await restarted.load();
        expect(await restarted.add('6002', DND, SOURCE, Date.now() + HOUR, '192.0.2.10')).to.deep.include({ status: 403 });
        expect(await restarted.add('6002', DND, SOURCE, Date.now() + HOUR, '192.0.2.11')).to.have.property('etag');
      } finally {
        restarted.stop();
      }
    });

    it('schedules the restored publications for expiry', async () => {
      await store.savePublication(record('soon', Date.now() + 30));
      await publications.load();
      await nextChange('6002');
      expect(publications.live('6002')).to.deep.equal([]);
    });
  });
});
