// docs/OPERATIONS.md's backup, restore and rollback, done as written against the real daemon: an online copy of the
// SQLite store with the sqlite3 program while presenced runs, restored into another data directory; and a store
// from a newer presenced refused at start with the message the docs quote.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { makeTempDir, removeDir, runProgram, startServer } from '../helpers/server.js';
import { SQLITE_FILE_NAME, SQLITE_SCHEMA_VERSION } from '../../lib/store/sqlite-store.js';

const run = promisify(execFile);

describe('integration: backup, restore and a refused rollback (docs/OPERATIONS.md)', function () {
  let work: string;

  before(async function () {
    work = await makeTempDir('presenced-backup-');
  });

  after(async function () {
    if (work) await removeDir(work);
  });

  it('copies the store while presenced runs, and a daemon started on the copy has the same states', async function () {
    const server = await startServer();
    const copy = path.join(work, 'backup.sqlite');
    try {
      for (const [entity, value] of [['CustomPresence:6002', 'dnd,meeting,Board meeting'], ['CustomPresence:2000', 'away,,Lunch']]) {
        const change = await server.cli(['change', entity, value]);
        expect(change.code, change.stderr).to.equal(0);
      }
      const device = await server.devicestate(['change', 'Custom:2000', 'INUSE']);
      expect(device.code, device.stderr).to.equal(0);
      // The command of docs/OPERATIONS.md, "Backup", while the daemon holds the file open in WAL mode.
      await run('sqlite3', [path.join(server.dataDir, SQLITE_FILE_NAME), `.backup '${copy}'`]);
    } finally {
      await server.stop();
    }

    const restored = path.join(work, 'restored');
    await mkdir(restored);
    await run('cp', [copy, path.join(restored, SQLITE_FILE_NAME)]);
    const again = await startServer({ dataDir: restored });
    try {
      const list = JSON.parse((await again.cli(['--json', 'list'])).stdout) as Array<Record<string, unknown>>;
      expect(list.map(({ name, state, message }) => [name, state, message])).to.deep.equal([['2000', 'away', 'Lunch'], ['6002', 'dnd', 'Board meeting']]);
      expect((await again.devicestate(['list'])).stdout).to.include("--- Name: 'Custom:2000'  State: 'INUSE'");
    } finally {
      await again.stop();
    }
  });

  it('refuses a store a newer presenced wrote, naming the file and both schema versions', async function () {
    const dataDir = path.join(work, 'newer');
    await mkdir(dataDir);
    const file = path.join(dataDir, SQLITE_FILE_NAME);
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    const result = await runProgram('presenced', ['--data', dataDir, '--udp', '127.0.0.1:0', '--tcp', 'off', '--log-format', 'json']);
    expect(result.code).to.equal(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).to.equal(
      `presenced: cannot open store database ${file}: schema version ${SQLITE_SCHEMA_VERSION + 1} is newer than this presenced supports (${SQLITE_SCHEMA_VERSION})`);
    // Nothing was changed in the file.
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).to.equal(SQLITE_SCHEMA_VERSION + 1);
    after.close();
  });
});
