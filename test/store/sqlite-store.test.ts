import { spawn } from 'node:child_process';
import type { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { SQLITE_FILE_NAME, SQLITE_SCHEMA_VERSION } from '../../lib/store/sqlite-store.js';
import { openStore, type PresenceRecord } from '../../lib/store/store.js';
import { storeConformance } from './conformance.js';
import { eventually } from '../helpers/sip-client.js';

function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'presenced-store-'));
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

async function openFailure(dataDir: string): Promise<Error> {
  try {
    const store = await openStore('sqlite', dataDir);
    await store.close();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error(`expected opening ${dataDir} to fail`);
}

storeConformance('sqlite', async () => {
  const dataDir = makeTempDir();
  return {
    store: await openStore('sqlite', dataDir),
    reopen: () => openStore('sqlite', dataDir),
    cleanup: async () => removeDir(dataDir),
  };
});

describe('sqlite store', function () {
  let tempDir: string;

  beforeEach(function () {
    tempDir = makeTempDir();
  });

  afterEach(function () {
    removeDir(tempDir);
  });

  it('creates the data directory recursively, in WAL mode at the current schema version', async function () {
    const dataDir = path.join(tempDir, 'var', 'lib', 'presenced');
    const store = await openStore('sqlite', dataDir);
    expect(store.kind).to.equal('sqlite');
    await store.close();

    const db = new Database(path.join(dataDir, SQLITE_FILE_NAME), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
      expect(db.pragma('user_version', { simple: true })).to.equal(SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('rejects a corrupt database file with an error naming the file', async function () {
    const file = path.join(tempDir, SQLITE_FILE_NAME);
    fs.writeFileSync(file, 'this is not an SQLite database, just some text that is long enough to fill a header. '.repeat(20));
    const error = await openFailure(tempDir);
    expect(error.message).to.contain(file);
    expect(error.message).to.match(/not a database/);
  });

  it('rejects a database written by a newer schema version with an error naming the file', async function () {
    const file = path.join(tempDir, SQLITE_FILE_NAME);
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    const error = await openFailure(tempDir);
    expect(error.message).to.contain(file);
    expect(error.message).to.contain(`schema version ${SQLITE_SCHEMA_VERSION + 1}`);
  });

  it('rejects a data directory that is a file with an error naming it', async function () {
    const notADir = path.join(tempDir, 'plain-file');
    fs.writeFileSync(notADir, '');
    const error = await openFailure(notADir);
    expect(error.message).to.contain(notADir);
  });

  it('keeps a saved presence when the writing process is killed with SIGKILL right after the save', async function () {
    const record: PresenceRecord = {
      name: '6002', state: 'dnd', subtype: 'meeting', message: 'back at 3', base64: false, updatedAt: 1_732_278_896_123, version: 1,
    };
    // From <build>/test/store/ to <build>/lib/store/, so this works from dist/ and from any .build-* folder.
    const storeModule = new URL('../../lib/store/store.js', import.meta.url).href;
    const script = `
      const { openStore } = await import(${JSON.stringify(storeModule)});
      const store = await openStore('sqlite', ${JSON.stringify(tempDir)});
      await store.savePresence(${JSON.stringify(record)});
      process.stdout.write('saved\\n');
      setInterval(() => {}, 60_000); // stay alive until killed
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exitSignal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('saved\n')) child.kill('SIGKILL');
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (stdout.includes('saved\n')) resolve(signal);
        else reject(new Error(`child exited (code ${code}, signal ${signal}) before saving: ${stderr}`));
      });
    });
    expect(exitSignal).to.equal('SIGKILL');

    const store = await openStore('sqlite', tempDir);
    try {
      expect(await store.getPresence('6002')).to.deep.equal(record);
    } finally {
      await store.close();
    }
  });

  it('carries on when its disk thread dies: the next durable write fsyncs on the store\'s connection, nothing is lost', async function () {
    const warnings: string[] = [];
    const store = await openStore('sqlite', tempDir, (message) => warnings.push(message));
    const first: PresenceRecord = { name: '6001', state: 'away', subtype: 'home', message: 'flu', base64: false, updatedAt: 1_732_278_896_000, version: 1 };
    const second: PresenceRecord = { ...first, name: '6002', state: 'dnd', updatedAt: 1_732_278_897_000 };
    try {
      expect(await store.savePresence(first)).to.equal(true);
      // What a crash of the thread looks like from the store: the worker exits while the store still uses it.
      const { diskWorker } = store as unknown as { diskWorker: Worker };
      const exited = new Promise((resolve) => diskWorker.once('exit', resolve));
      await diskWorker.terminate();
      await exited;
      expect(warnings.join('\n')).to.match(/the disk thread exited \(code \d+\); fsyncs are back on the main thread/);
      // Each commit now fsyncs itself (synchronous=FULL is 2), and the connection checkpoints again.
      const { db } = store as unknown as { db: Database.Database };
      expect(db.pragma('synchronous', { simple: true })).to.equal(2);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).to.be.greaterThan(0);
      expect(await store.savePresence(second)).to.equal(true);
    } finally {
      await store.close();
    }
    const reopened = await openStore('sqlite', tempDir);
    try {
      expect(await reopened.getPresence('6001')).to.deep.equal(first);
      expect(await reopened.getPresence('6002')).to.deep.equal(second);
    } finally {
      await reopened.close();
    }
    expect(warnings).to.have.lengthOf(1);
  });

  it('copies the write-ahead log into the database from its disk thread, never from the store\'s connection', async function () {
    const store = await openStore('sqlite', tempDir);
    const file = path.join(tempDir, SQLITE_FILE_NAME);
    try {
      const before = fs.statSync(file).size;
      // About 1 MB: far under the 1,000 pages (4 MB) at which a connection checkpoints by itself.
      const records = Array.from({ length: 2000 }, (_, index) => ({ id: `dialog-${index}`, expiresAt: 1_732_278_900_000, data: 'x'.repeat(500), owner: 'node-a' }));
      await store.writeSubscriptions(records, []);
      expect(fs.statSync(file).size, 'the write itself leaves the database file alone').to.equal(before);
      await eventually(() => fs.statSync(file).size > before + 500_000, 10_000, 'the disk thread to copy the log into the database');
    } finally {
      await store.close();
    }
  });
});
