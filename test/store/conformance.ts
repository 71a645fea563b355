/**
 * The one behavioural suite every Store backend must pass unchanged (see docs/STORE.md, "Adding a backend").
 */
import { expect } from 'chai';
import { StoreClosedError, type DeviceStateRecord, type PresenceRecord, type PublicationRecord, type Store, type SubscriptionRecord } from '../../lib/store/store.js';

export interface StoreHarness {
  store: Store;
  /** Opens a new store over the same data; given only by durable backends. */
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

/** Strings that tend to break quoting, encodings or key schemes. Lone surrogates are excluded: they are not valid Unicode. */
const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  `it's "double" and 'single' quoted`,
  'line one\nline two\r\nline three\r',
  'tab\there',
  'nul\u0000inside',
  "'; DROP TABLE presence; --",
  '%_*?[]{}\\ like and glob characters',
  'Ünïcödé 日本語 עברית 😀👍🏽',
  '\u200b\ufeffzero width',
  '{"json":"looking",\n"nested":[1,2]}',
  'x'.repeat(65_536),
];

function presence(name: string, overrides: Partial<PresenceRecord> = {}): PresenceRecord {
  return { name, state: 'available', subtype: '', message: '', base64: false, updatedAt: 1_732_278_896_123, version: 1, ...overrides };
}

function subscription(id: string, expiresAt = 1_732_278_900_000, data = `{"dialog":"${id}"}`, owner = 'node-a'): SubscriptionRecord {
  return { id, expiresAt, data, owner };
}

function publication(etag: string, overrides: Partial<PublicationRecord> = {}): PublicationRecord {
  return {
    etag, name: '6002', state: 'away', subtype: 'lunch', message: 'back at two', source: 'sip:6002@pbx (Linphone/5.2)',
    changedAt: 1_732_278_896_123, expiresAt: 1_732_278_900_000, version: 1, address: '192.0.2.10', ...overrides,
  };
}

function byEtag(records: PublicationRecord[]): PublicationRecord[] {
  return [...records].sort((a, b) => (a.etag < b.etag ? -1 : a.etag > b.etag ? 1 : 0));
}

function byId(records: SubscriptionRecord[]): SubscriptionRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function rejectionOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

export function storeConformance(name: string, open: () => Promise<StoreHarness>): void {
  describe(`store conformance: ${name}`, function () {
    let harness: StoreHarness;
    let store: Store;

    beforeEach(async function () {
      harness = await open();
      store = harness.store;
    });

    afterEach(async function () {
      await store.close();
      await harness.cleanup();
    });

    describe('device states', function () {
      const device = (name: string, overrides: Partial<DeviceStateRecord> = {}): DeviceStateRecord =>
        ({ name, state: 'INUSE', updatedAt: 1_700_000_000_000, version: 1, ...overrides });

      it('saves, overwrites with a higher version and lists in code point order', async function () {
        expect(await store.loadDeviceStates()).to.deep.equal([]);
        expect(await store.saveDeviceState(device('2000'))).to.equal(true);
        expect(await store.saveDeviceState(device('1000', { state: 'RINGING' }))).to.equal(true);
        expect(await store.saveDeviceState(device('2000', { state: 'BUSY', version: 2 }))).to.equal(true);
        expect(await store.loadDeviceStates()).to.deep.equal([device('1000', { state: 'RINGING' }), device('2000', { state: 'BUSY', version: 2 })]);
      });

      it('refuses a write whose version is not above the stored one and keeps names case-sensitive', async function () {
        await store.saveDeviceState(device('DND2000', { version: 5 }));
        expect(await store.saveDeviceState(device('DND2000', { state: 'NOT_INUSE', version: 5 }))).to.equal(false);
        await store.saveDeviceState(device('dnd2000', { state: 'NOT_INUSE' }));
        expect(await store.loadDeviceStates()).to.deep.equal([device('DND2000', { version: 5 }), device('dnd2000', { state: 'NOT_INUSE' })]);
      });

      it('reads one device by its case-sensitive name, undefined when never set', async function () {
        expect(await store.getDeviceState('2000')).to.equal(undefined);
        await store.saveDeviceState(device('2000', { state: 'ONHOLD', version: 3 }));
        await store.saveDeviceState(device('2000x'));
        expect(await store.getDeviceState('2000')).to.deep.equal(device('2000', { state: 'ONHOLD', version: 3 }));
        expect(await store.getDeviceState('2000X')).to.equal(undefined);
      });
    });

    describe('presence', function () {
      it('returns undefined for an unknown name', async function () {
        expect(await store.getPresence('6002')).to.equal(undefined);
        expect(await store.loadPresence()).to.deep.equal([]);
      });

      it('saves and gets a record with every field intact', async function () {
        const record = presence('6002', { state: 'dnd', subtype: 'bWVldGluZw==', message: 'aW4gYSBtZWV0aW5n', base64: true });
        await store.savePresence(record);
        expect(await store.getPresence('6002')).to.deep.equal(record);
      });

      it('overwrites the record saved under the same name with a higher version', async function () {
        expect(await store.savePresence(presence('6002', { state: 'away', message: 'lunch', base64: true }))).to.equal(true);
        const replacement = presence('6002', { state: 'available', updatedAt: 1_732_278_999_999, version: 2 });
        expect(await store.savePresence(replacement)).to.equal(true);
        expect(await store.getPresence('6002')).to.deep.equal(replacement);
        expect(await store.loadPresence()).to.deep.equal([replacement]);
      });

      it('treats names as case-sensitive keys', async function () {
        await store.savePresence(presence('Alice', { state: 'away' }));
        await store.savePresence(presence('alice', { state: 'xa' }));
        expect((await store.getPresence('Alice'))?.state).to.equal('away');
        expect((await store.getPresence('alice'))?.state).to.equal('xa');
        expect(await store.getPresence('ALICE')).to.equal(undefined);
      });

      it('refuses a write whose version is not above the stored one, keeping the stored record', async function () {
        const latest = presence('6002', { state: 'dnd', version: 5 });
        await store.savePresence(latest);
        expect(await store.savePresence(presence('6002', { state: 'away', version: 4 }))).to.equal(false);
        expect(await store.savePresence(presence('6002', { state: 'xa', version: 5 }))).to.equal(false);
        expect(await store.getPresence('6002')).to.deep.equal(latest);
      });

      it('deletes a record and accepts deleting a missing name', async function () {
        await store.savePresence(presence('6001'));
        await store.savePresence(presence('6002'));
        await store.deletePresence('6001');
        await store.deletePresence('no-such-name');
        expect(await store.getPresence('6001')).to.equal(undefined);
        expect(await store.loadPresence()).to.deep.equal([presence('6002')]);
      });

      it('lists all records sorted by name in code point order', async function () {
        // '😀' (U+1F600) sorts after U+FFFD by code point but before it by UTF-16 code unit.
        const sorted = ['10', '6002', '9', 'B', 'a', 'b', 'é', '\ufffd', '😀'];
        for (const key of ['b', '😀', '9', 'a', '\ufffd', '10', 'é', 'B', '6002']) await store.savePresence(presence(key));
        expect((await store.loadPresence()).map((record) => record.name)).to.deep.equal(sorted);
      });

      it('round-trips unicode, empty and hostile strings exactly', async function () {
        const records = HOSTILE_STRINGS.map((text, index) => presence(`${index}:${text}`, { subtype: text, message: text }));
        for (const record of records) await store.savePresence(record);
        for (const record of records) expect(await store.getPresence(record.name)).to.deep.equal(record);
        expect(await store.loadPresence()).to.have.lengthOf(records.length);
      });

      it('accepts an empty name as a key', async function () {
        await store.savePresence(presence('', { state: 'chat' }));
        expect(await store.getPresence('')).to.deep.equal(presence('', { state: 'chat' }));
      });

      it('keeps its own copy of records', async function () {
        const record = presence('6002', { message: 'original' });
        await store.savePresence(record);
        record.message = 'changed by the caller after saving';
        const loaded = await store.getPresence('6002');
        if (loaded) loaded.message = 'changed by the caller after loading';
        (await store.loadPresence())[0].message = 'changed in a listed copy';
        expect((await store.getPresence('6002'))?.message).to.equal('original');
      });
    });

    describe('versions', function () {
      it('counts each key from 1, apart from every other key', async function () {
        expect(await store.nextVersion('CustomPresence:6002')).to.equal(1);
        expect(await store.nextVersion('CustomPresence:6002')).to.equal(2);
        expect(await store.nextVersion('CustomPresence:6003')).to.equal(1);
        expect(await store.nextVersion('Custom:6002')).to.equal(1);
        expect(await store.nextVersion('CustomPresence:6002')).to.equal(3);
      });

      it('gives concurrent callers distinct versions', async function () {
        const versions = await Promise.all(Array.from({ length: 50 }, () => store.nextVersion('CustomPresence:6002')));
        expect([...versions].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, index) => index + 1));
      });

      it('takes hostile keys', async function () {
        for (const text of HOSTILE_STRINGS) expect(await store.nextVersion(text), JSON.stringify(text.slice(0, 20))).to.equal(1);
      });
    });

    describe('leases', function () {
      it('lists the nodes whose lease ran out, and lets exactly one caller take each over', async function () {
        await store.renewLease('node-a', 5000);
        await store.renewLease('node-b', 1000);
        await store.renewLease('node-c', 2000);
        await store.renewLease('node-c', 9000);
        expect((await store.expiredLeases(3000)).sort()).to.deep.equal(['node-b']);
        expect(await store.takeOver('node-a', 3000)).to.equal(false);
        const takers = await Promise.all([store.takeOver('node-b', 3000), store.takeOver('node-b', 3000), store.takeOver('node-b', 3000)]);
        expect(takers.filter(Boolean)).to.have.lengthOf(1);
        expect(await store.expiredLeases(3000)).to.deep.equal([]);
        expect(await store.takeOver('unknown', 3000)).to.equal(false);
      });
    });

    describe('subscriptions', function () {
      it('starts empty', async function () {
        expect(await store.loadSubscriptions()).to.deep.equal([]);
      });

      it('upserts and deletes in one batch, ignoring deletes of missing ids', async function () {
        await store.writeSubscriptions([subscription('a'), subscription('b'), subscription('c')], []);
        const refreshed = subscription('b', 1_732_279_500_000, '{"refreshed":true}');
        await store.writeSubscriptions([refreshed, subscription('d')], ['a', 'missing']);
        expect(byId(await store.loadSubscriptions())).to.deep.equal([refreshed, subscription('c'), subscription('d')]);
      });

      it('applies deletes after upserts within a batch', async function () {
        await store.writeSubscriptions([subscription('a'), subscription('b')], ['a']);
        expect(await store.loadSubscriptions()).to.deep.equal([subscription('b')]);
      });

      it('treats an empty batch as a no-op', async function () {
        await store.writeSubscriptions([subscription('a')], []);
        await store.writeSubscriptions([], []);
        expect(await store.loadSubscriptions()).to.deep.equal([subscription('a')]);
      });

      it('round-trips hostile ids and data exactly', async function () {
        const records = HOSTILE_STRINGS.map((text, index) => subscription(`${index}:${text}`, 1_732_278_900_000 + index, text));
        await store.writeSubscriptions(records, []);
        expect(byId(await store.loadSubscriptions())).to.deep.equal(byId(records));
      });

      it('purges subscriptions with expiresAt <= now and returns how many', async function () {
        await store.writeSubscriptions([subscription('early', 1000), subscription('edge', 2000), subscription('late', 3000)], []);
        expect(await store.purgeExpiredSubscriptions(2000)).to.equal(2);
        expect(await store.loadSubscriptions()).to.deep.equal([subscription('late', 3000)]);
        expect(await store.purgeExpiredSubscriptions(2000)).to.equal(0);
      });

      it('reads latest expiry first, a page at a time after a given record', async function () {
        const records = [subscription('a', 1000), subscription('b', 3000), subscription('c', 2000), subscription('d', 2000), subscription('e', 3000)];
        await store.writeSubscriptions(records, []);
        const ids = (page: SubscriptionRecord[]): string[] => page.map((record) => record.id);
        expect(ids(await store.loadSubscriptions())).to.deep.equal(['e', 'b', 'd', 'c', 'a']);
        const first = await store.loadSubscriptions({ limit: 2 });
        expect(ids(first)).to.deep.equal(['e', 'b']);
        const second = await store.loadSubscriptions({ after: first[1], limit: 2 });
        expect(ids(second)).to.deep.equal(['d', 'c']);
        expect(ids(await store.loadSubscriptions({ after: second[1], limit: 2 }))).to.deep.equal(['a']);
        expect(await store.loadSubscriptions({ after: subscription('a', 1000), limit: 2 })).to.deep.equal([]);
      });

      it('keeps the owner of each record', async function () {
        const records = [subscription('a', 1000, '{}', 'node-a'), subscription('b', 2000, '{}', 'node-b'), subscription('c', 3000, '{}', '')];
        await store.writeSubscriptions(records, []);
        expect(byId(await store.loadSubscriptions())).to.deep.equal(records);
      });

      it('keeps subscriptions and presence apart even when keys are equal', async function () {
        await store.savePresence(presence('shared'));
        await store.writeSubscriptions([subscription('shared')], []);
        await store.deletePresence('shared');
        expect(await store.loadSubscriptions()).to.deep.equal([subscription('shared')]);
        await store.savePresence(presence('shared'));
        await store.writeSubscriptions([], ['shared']);
        expect(await store.getPresence('shared')).to.deep.equal(presence('shared'));
      });
    });

    describe('publications', function () {
      it('starts empty', async function () {
        expect(await store.loadPublications()).to.deep.equal([]);
      });

      it('saves records with every field intact, several per name', async function () {
        const desk = publication('e1', { source: 'sip:6002@pbx (Yealink T54W)' });
        const softphone = publication('e2', { state: 'dnd', subtype: '', message: '', changedAt: 1_732_278_896_999 });
        await store.savePublication(desk);
        await store.savePublication(softphone);
        expect(byEtag(await store.loadPublications())).to.deep.equal([desk, softphone]);
      });

      it('upserts by etag', async function () {
        await store.savePublication(publication('e1'));
        const modified = publication('e1', { state: 'xa', expiresAt: 1_732_279_999_000 });
        await store.savePublication(modified);
        expect(await store.loadPublications()).to.deep.equal([modified]);
      });

      it('replaces the etag a refresh retires, and treats replacing a missing or the same etag as an upsert', async function () {
        await store.savePublication(publication('old'));
        await store.savePublication(publication('other', { name: '7000' }));
        const refreshed = publication('new', { expiresAt: 1_732_279_500_000 });
        await store.savePublication(refreshed, 'old');
        expect(byEtag(await store.loadPublications())).to.deep.equal([refreshed, publication('other', { name: '7000' })]);
        await store.savePublication(publication('fresh'), 'missing');
        await store.savePublication(publication('other', { name: '7000', state: 'dnd' }), 'other');
        expect(byEtag(await store.loadPublications()).map(({ etag, state }) => [etag, state])).to.deep.equal([
          ['fresh', 'away'], ['new', 'away'], ['other', 'dnd'],
        ]);
      });

      it('lists the publications of one name, and none for an unknown one', async function () {
        await store.savePublication(publication('e1'));
        await store.savePublication(publication('e2', { name: '7000' }));
        await store.savePublication(publication('e3', { version: 7 }));
        expect(byEtag(await store.getPublications('6002'))).to.deep.equal([publication('e1'), publication('e3', { version: 7 })]);
        expect(await store.getPublications('60')).to.deep.equal([]);
        await store.deletePublication('e1');
        expect(await store.getPublications('6002')).to.deep.equal([publication('e3', { version: 7 })]);
      });

      it('deletes by etag and accepts deleting a missing one', async function () {
        await store.savePublication(publication('e1'));
        await store.savePublication(publication('e2'));
        await store.deletePublication('e1');
        await store.deletePublication('missing');
        expect(await store.loadPublications()).to.deep.equal([publication('e2')]);
      });

      it('purges publications with expiresAt <= now and returns how many', async function () {
        await store.savePublication(publication('early', { expiresAt: 1000 }));
        await store.savePublication(publication('edge', { expiresAt: 2000 }));
        await store.savePublication(publication('late', { expiresAt: 3000 }));
        expect(await store.purgeExpiredPublications(2000)).to.equal(2);
        expect(await store.loadPublications()).to.deep.equal([publication('late', { expiresAt: 3000 })]);
        expect(await store.purgeExpiredPublications(2000)).to.equal(0);
      });

      it('round-trips hostile etags, names and texts exactly', async function () {
        const records = HOSTILE_STRINGS.map((text, index) =>
          publication(`${index}:${text}`, { name: text, subtype: text, message: text, source: text }));
        for (const record of records) await store.savePublication(record);
        expect(byEtag(await store.loadPublications())).to.deep.equal(byEtag(records));
      });

      it('keeps its own copy of records', async function () {
        const record = publication('e1');
        await store.savePublication(record);
        record.message = 'changed by the caller after saving';
        (await store.loadPublications())[0].message = 'changed in a listed copy';
        expect((await store.loadPublications())[0]?.message).to.equal('back at two');
      });

      it('keeps publications apart from presence and subscriptions', async function () {
        await store.savePresence(presence('shared'));
        await store.writeSubscriptions([subscription('shared')], []);
        await store.savePublication(publication('shared', { name: 'shared' }));
        await store.deletePresence('shared');
        await store.writeSubscriptions([], ['shared']);
        expect(await store.loadPublications()).to.deep.equal([publication('shared', { name: 'shared' })]);
        await store.savePresence(presence('shared'));
        await store.deletePublication('shared');
        expect(await store.getPresence('shared')).to.deep.equal(presence('shared'));
      });
    });

    describe('documents', function () {
      it('saves, overwrites, lists by prefix in code point order and deletes', async function () {
        expect(await store.loadDocuments('')).to.deep.equal([]);
        await store.saveDocument({ key: 'panel/states', data: '{"entries":[]}' });
        await store.saveDocument({ key: 'panel/settings/6002', data: '{"onLogin":1}' });
        await store.saveDocument({ key: 'panel/settings/6001', data: '{"onLogin":null}' });
        await store.saveDocument({ key: 'panel/settings/6002', data: '{"onLogin":2}' });
        expect(await store.loadDocuments('panel/settings/')).to.deep.equal([
          { key: 'panel/settings/6001', data: '{"onLogin":null}' },
          { key: 'panel/settings/6002', data: '{"onLogin":2}' },
        ]);
        await store.deleteDocument('panel/settings/6001');
        await store.deleteDocument('missing');
        expect((await store.loadDocuments('panel/')).map((record) => record.key)).to.deep.equal(['panel/settings/6002', 'panel/states']);
      });

      it('matches a prefix literally, wildcard characters included, and round-trips hostile keys and data', async function () {
        await store.saveDocument({ key: 'a%b', data: '1' });
        await store.saveDocument({ key: 'axb', data: '2' });
        await store.saveDocument({ key: 'a_c', data: '3' });
        expect((await store.loadDocuments('a%')).map((record) => record.key)).to.deep.equal(['a%b']);
        expect((await store.loadDocuments('a_')).map((record) => record.key)).to.deep.equal(['a_c']);
        const records = HOSTILE_STRINGS.map((text, index) => ({ key: `hostile/${index}:${text}`, data: text }));
        for (const record of records) await store.saveDocument(record);
        expect(await store.loadDocuments('hostile/')).to.have.deep.members(records);
      });

      it('replaces another document in the same step, and saves over itself when it replaces its own key', async function () {
        await store.saveDocument({ key: 'dialogs/2000/etag-1', data: 'first' });
        await store.saveDocument({ key: 'dialogs/2000/etag-2', data: 'second' }, 'dialogs/2000/etag-1');
        expect(await store.loadDocuments('dialogs/')).to.deep.equal([{ key: 'dialogs/2000/etag-2', data: 'second' }]);
        await store.saveDocument({ key: 'dialogs/2000/etag-2', data: 'again' }, 'dialogs/2000/etag-2');
        await store.saveDocument({ key: 'dialogs/2000/etag-3', data: 'third' }, 'dialogs/2000/missing');
        expect(await store.loadDocuments('dialogs/')).to.deep.equal([
          { key: 'dialogs/2000/etag-2', data: 'again' },
          { key: 'dialogs/2000/etag-3', data: 'third' },
        ]);
      });

      it('keeps documents apart from presence records with the same key', async function () {
        await store.saveDocument({ key: '6002', data: 'x' });
        expect(await store.loadPresence()).to.deep.equal([]);
      });
    });

    describe('close', function () {
      it('is idempotent, and every other method then rejects with StoreClosedError', async function () {
        await store.close();
        await store.close();
        const calls: Record<string, () => Promise<unknown>> = {
          savePresence: () => store.savePresence(presence('6002')),
          deletePresence: () => store.deletePresence('6002'),
          loadPresence: () => store.loadPresence(),
          getPresence: () => store.getPresence('6002'),
          writeSubscriptions: () => store.writeSubscriptions([subscription('a')], []),
          loadSubscriptions: () => store.loadSubscriptions(),
          purgeExpiredSubscriptions: () => store.purgeExpiredSubscriptions(0),
          savePublication: () => store.savePublication(publication('e1')),
          deletePublication: () => store.deletePublication('e1'),
          loadPublications: () => store.loadPublications(),
          getPublications: () => store.getPublications('6002'),
          nextVersion: () => store.nextVersion('CustomPresence:6002'),
          renewLease: () => store.renewLease('node-a', 1),
          expiredLeases: () => store.expiredLeases(0),
          takeOver: () => store.takeOver('node-a', 0),
          purgeExpiredPublications: () => store.purgeExpiredPublications(0),
          saveDocument: () => store.saveDocument({ key: 'k', data: 'd' }),
          deleteDocument: () => store.deleteDocument('k'),
          loadDocuments: () => store.loadDocuments(''),
          getDeviceState: () => store.getDeviceState('2000'),
        };
        for (const [method, call] of Object.entries(calls)) {
          const error = await rejectionOf(call);
          expect(error, method).to.be.instanceOf(StoreClosedError);
          expect((error as Error).message, method).to.match(/closed/);
        }
      });

      it('keeps everything across close and reopen (durable backends)', async function () {
        const { reopen } = harness;
        if (!reopen) this.skip();
        const records = HOSTILE_STRINGS.map((text, index) =>
          presence(`${index}:${text}`, { state: 'away', subtype: text, message: text, base64: index % 2 === 0 }),
        );
        for (const record of records) await store.savePresence(record);
        await store.savePresence(presence('deleted'));
        await store.deletePresence('deleted');
        const subscriptions = [subscription('kept', 5000, HOSTILE_STRINGS[2]), subscription('deleted'), subscription('expired', 1000)];
        await store.writeSubscriptions(subscriptions, []);
        await store.writeSubscriptions([], ['deleted']);
        await store.purgeExpiredSubscriptions(1000);
        const kept = publication('kept', { message: HOSTILE_STRINGS[3], expiresAt: 5000 });
        await store.savePublication(publication('retired', { expiresAt: 5000 }));
        await store.savePublication(kept, 'retired');
        await store.savePublication(publication('deleted'));
        await store.deletePublication('deleted');
        await store.savePublication(publication('expired', { expiresAt: 1000 }));
        await store.purgeExpiredPublications(1000);
        await store.saveDocument({ key: 'panel/states', data: HOSTILE_STRINGS[8] });
        await store.close();

        store = await reopen();
        // The names first differ inside their ASCII index prefix, so a UTF-16 sort equals the code point order here.
        const sortedRecords = [...records].sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(await store.loadPresence()).to.deep.equal(sortedRecords);
        expect(await store.loadSubscriptions()).to.deep.equal([subscription('kept', 5000, HOSTILE_STRINGS[2])]);
        expect(await store.loadPublications()).to.deep.equal([kept]);
        expect(await store.loadDocuments('panel/')).to.deep.equal([{ key: 'panel/states', data: HOSTILE_STRINGS[8] }]);
      });
    });
  });
}
