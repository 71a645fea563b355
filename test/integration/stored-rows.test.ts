// D6: a stored row of the wrong shape (valid JSON that is not a subscription, a state that is not a state) is
// skipped with one WARN; the server starts and restores everything else.
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { listedSubscriptions, makeTempDir, removeDir, startServer } from '../helpers/server.js';
import { UdpSipClient } from '../helpers/sip-client.js';
import { SQLITE_FILE_NAME } from '../../lib/store/sqlite-store.js';

const WRONG_SHAPES = ['null', '{}', '[]', '1', '"text"', '{"callId":1}', 'not json'];

describe('integration: stored rows of the wrong shape (D6)', function () {
  let dataDir: string;
  before(async function () {
    dataDir = await makeTempDir('presenced-itest-rows-');
  });
  after(async function () {
    await removeDir(dataDir);
  });

  it('skips them with one WARN per kind and restores the rest', async function () {
    const first = await startServer({ dataDir });
    const client = await UdpSipClient.open(first.udpPort);
    try {
      await client.subscribeDialog({ fromUser: 'survivor' });
      const change = await first.cli(['change', 'CustomPresence:7000', 'away,,kept']);
      expect(change.code, change.stderr).to.equal(0);
    } finally {
      await client.close();
    }
    await first.stop();

    const db = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    try {
      const expiresAt = Date.now() + 600_000;
      const insert = db.prepare('INSERT INTO subscriptions (id, expires_at, data) VALUES (?, ?, ?)');
      WRONG_SHAPES.forEach((data, index) => insert.run(`bad-${index}`, expiresAt, data));
      db.prepare('INSERT INTO presence (name, state, subtype, message, base64, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run('8000', 'constructor', '', '', 0, 1);
      db.prepare(`INSERT INTO publications (etag, name, state, subtype, message, source, changed_at, expires_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run('e1', '6002', 'toString', '', '', 'x', 1, expiresAt);
    } finally {
      db.close();
    }

    const second = await startServer({ dataDir });
    try {
      const log = second.stderr();
      expect(log).to.include(`store: skipped ${WRONG_SHAPES.length} unreadable subscription record(s), the first`);
      expect(log).to.include('store: skipped 1 unreadable presence record(s)');
      expect(log).to.include('store: skipped 1 unreadable publication record(s)');
      expect(await listedSubscriptions(second, 'survivor')).to.equal(1);
      const listing = await second.cli(['list']);
      expect(listing.code, listing.stderr).to.equal(0);
      expect(listing.stdout).to.include("'CustomPresence:7000'").and.not.to.include("'CustomPresence:8000'");
      const hints = await second.cli(['hints']);
      expect(hints.code, hints.stderr).to.equal(0);
    } finally {
      await second.stop();
    }
  });
});
