import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SQLITE_FILE_NAME, SQLITE_SCHEMA_VERSION } from '../../lib/store/sqlite-store.js';
import { openStore, type PublicationRecord } from '../../lib/store/store.js';

/** The schema presenced 0.1 wrote (user_version 1), before publications were stored. */
const VERSION_1_SCHEMA = `
  CREATE TABLE presence (
    name TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL, subtype TEXT NOT NULL, message TEXT NOT NULL,
    base64 INTEGER NOT NULL, updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE subscriptions (id TEXT PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
  CREATE INDEX subscriptions_by_expiry ON subscriptions (expires_at);
  PRAGMA user_version = 1;
`;

describe('sqlite store migration from version 1', function () {
  let dataDir: string;

  beforeEach(function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'presenced-migration-'));
    const db = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    db.exec(VERSION_1_SCHEMA);
    db.prepare('INSERT INTO presence VALUES (?, ?, ?, ?, ?, ?)').run('6002', 'dnd', 'meeting', 'Quarterly review', 0, 1_732_278_896_123);
    db.prepare('INSERT INTO subscriptions VALUES (?, ?, ?)').run('dialog-1', 1_732_278_900_000, '{}');
    db.close();
  });

  afterEach(function () {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('upgrades a version 1 file in place, keeping its states and subscriptions, adding publications, versions and owners', async function () {
    const store = await openStore('sqlite', dataDir);
    try {
      expect(await store.loadPresence()).to.deep.equal([
        { name: '6002', state: 'dnd', subtype: 'meeting', message: 'Quarterly review', base64: false, updatedAt: 1_732_278_896_123, version: 0 },
      ]);
      expect(await store.loadSubscriptions()).to.deep.equal([{ id: 'dialog-1', expiresAt: 1_732_278_900_000, data: '{}', owner: '' }]);
      expect(await store.nextVersion('CustomPresence:6002')).to.equal(1);
      const record: PublicationRecord = {
        etag: 'e1', name: '6002', state: 'away', subtype: '', message: '', source: 'sip:6002@pbx', changedAt: 1, expiresAt: 2, version: 1, address: '192.0.2.10',
      };
      await store.savePublication(record);
      expect(await store.loadPublications()).to.deep.equal([record]);
    } finally {
      await store.close();
    }
    const db = new Database(path.join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).to.equal(SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });
});
