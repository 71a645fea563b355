import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openStore, type StoreKind } from '../../lib/store/store.js';
import { storeConformance } from './conformance.js';

storeConformance('memory', async () => ({
  store: await openStore('memory', ''),
  cleanup: async () => {},
}));

describe('openStore memory', function () {
  it('ignores dataDir and creates nothing on disk', async function () {
    const dataDir = path.join(os.tmpdir(), `presenced-memory-${process.pid}-never-created`);
    const store = await openStore('memory', dataDir);
    expect(store.kind).to.equal('memory');
    expect(existsSync(dataDir)).to.equal(false);
    await store.close();
  });

  it('gives every opened store its own data', async function () {
    const first = await openStore('memory', '');
    const second = await openStore('memory', '');
    await first.savePresence({ name: '6002', state: 'away', subtype: '', message: '', base64: false, updatedAt: 1, version: 1 });
    expect(await second.getPresence('6002')).to.equal(undefined);
    await first.close();
    await second.close();
  });

  it('rejects an unknown kind with an error naming it', async function () {
    let failure: unknown;
    await openStore('redis' as StoreKind, '').catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.contain("'redis'");
  });
});
