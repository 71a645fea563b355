// Subscriptions survive restarts (docs/RELIABILITY.md): after SIGTERM, or SIGKILL once the write-behind batch is on
// disk, every unexpired subscription comes back and its watcher gets NOTIFYs with a CSeq above any it saw, without
// subscribing again; expired ones are dropped silently.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { freePort, listedSubscriptions, makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer, ServerOptions } from '../helpers/server.js';
import { newTag, TcpSipClient, TcpSipListener, UdpSipClient } from '../helpers/sip-client.js';
import type { SipClient, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf, subscriptionState } from '../helpers/wire.js';
import { SQLITE_FILE_NAME } from '../../lib/store/sqlite-store.js';
import type { SipMessage } from '../helpers/wire.js';

/** The documented guarantee: a subscription is on disk 50 ms after its 200; this leaves ample margin. */
const PERSISTED_MS = 200;

type StopSignal = 'SIGTERM' | 'SIGKILL';

function cseqOf(notify: SipMessage): number {
  const seq = notify.cseq?.seq;
  if (seq === undefined) throw new Error(`NOTIFY without a CSeq:\n${notify.raw}`);
  return seq;
}

function noteOf(notify: SipMessage): string | undefined {
  return parsePidf(notify.body).notes[0];
}

describe('integration: reliability — restarts', function () {
  this.timeout(30000);
  let dataDir: string;
  let port: number;
  let server: PresenceServer | undefined;
  const closables: Array<{ close(): Promise<void> }> = [];

  /** Starts the daemon on the same state directory and the same UDP and TCP port every time. */
  async function start(options: ServerOptions = {}): Promise<PresenceServer> {
    server = await startServer({ ...options, dataDir, udp: `127.0.0.1:${port}`, tcp: `127.0.0.1:${port}` });
    return server;
  }

  async function restart(signal: StopSignal): Promise<void> {
    const status = await server!.stop(signal);
    expect(status.signal ?? status.code, 'how the daemon ended').to.equal(signal === 'SIGTERM' ? 0 : 'SIGKILL');
    await start();
  }

  async function change(value: string): Promise<void> {
    const result = await server!.cli(['change', 'CustomPresence:7000', value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  /** After the restart: a NOTIFY with the current state and a higher CSeq, then one per change, on `over`. */
  async function expectCarriesOn(dialog: WatcherDialog, before: SipMessage, over: SipClient = dialog.client): Promise<void> {
    const restored = await dialog.nextNotify(8000, over);
    expect(subscriptionState(restored).state, 'a restart does not end the subscription').to.equal('active');
    expect(cseqOf(restored), 'CSeq after the restart').to.be.above(cseqOf(before));
    expect(noteOf(restored)).to.equal('before the restart');

    await change('dnd,,after the restart');
    const next = await dialog.nextNotify(5000, over);
    expect(cseqOf(next)).to.equal(cseqOf(restored) + 1);
    expect(noteOf(next)).to.equal('after the restart');
  }

  function track<T extends { close(): Promise<void> }>(closable: T): T {
    closables.push(closable);
    return closable;
  }

  /** Opens the stopped daemon's database directly. */
  function withDatabase(use: (db: Database.Database) => void): void {
    const db = new Database(path.join(dataDir, SQLITE_FILE_NAME));
    try {
      use(db);
    } finally {
      db.close();
    }
  }

  beforeEach(async function () {
    dataDir = await makeTempDir();
    port = await freePort();
  });

  afterEach(async function () {
    await Promise.all(closables.splice(0).map((closable) => closable.close()));
    await server?.stop();
    server = undefined;
    await removeDir(dataDir);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`keeps NOTIFYing a UDP watcher at its source address after ${signal}, with rising CSeqs`, async function () {
      await start();
      const client = track(await UdpSipClient.open(port));
      // The Contact names a port nobody listens on: NOTIFYs must follow the flow, as behind a NAT.
      const deadPort = await freePort();
      const dialog = await client.subscribeDialog({ user: '7000', set: { Contact: `<sip:natted@127.0.0.1:${deadPort}>` } });
      await dialog.nextNotify();
      await change('away,,before the restart');
      const before = await dialog.nextNotify();
      await sleep(PERSISTED_MS);

      await restart(signal);
      await expectCarriesOn(dialog, before);
    });

    it(`reaches a TCP watcher after ${signal} by connecting to its Contact`, async function () {
      await start();
      const listener = track(await TcpSipListener.open(port));
      const client = track(await TcpSipClient.connect(port));
      const contact = `<sip:tcp-watcher@127.0.0.1:${listener.port};transport=tcp>`;
      const dialog = await client.subscribeDialog({ user: '7000', set: { Contact: contact } });
      await dialog.nextNotify();
      await change('away,,before the restart');
      const before = await dialog.nextNotify();
      await sleep(PERSISTED_MS);

      await restart(signal);
      await expectCarriesOn(dialog, before, await listener.connection(0, 8000));
    });
  }

  it('restores a subscription stored by an earlier version (dialog id as key, remoteTag field) and re-keys it', async function () {
    await start();
    const client = track(await UdpSipClient.open(port));
    const dialog = await client.subscribeDialog({ user: '7000' });
    await dialog.nextNotify();
    await change('away,,before the restart');
    const before = await dialog.nextNotify();
    await sleep(PERSISTED_MS);
    await server!.stop('SIGTERM');

    // The earlier layout: id "Call-ID LF local tag LF remote tag", and the remote tag also in the data.
    const oldId = `${dialog.callId}\n${dialog.toTag}\n${dialog.fromTag}`;
    withDatabase((db) => {
      const row = db.prepare('SELECT data FROM subscriptions WHERE id = ?').get(dialog.toTag) as { data: string } | undefined;
      expect(row, 'the record, keyed by our local tag').to.not.equal(undefined);
      const data = { ...JSON.parse(row!.data), remoteTag: dialog.fromTag };
      db.prepare('UPDATE subscriptions SET id = ?, data = ? WHERE id = ?').run(oldId, JSON.stringify(data), dialog.toTag);
    });

    await start();
    await expectCarriesOn(dialog, before);
    // In-dialog requests still match: a refresh is accepted.
    expect((await dialog.refresh({ expires: 600 })).status).to.equal(200);
    await server!.stop('SIGTERM');
    withDatabase((db) => {
      const ids = (db.prepare('SELECT id FROM subscriptions').all() as Array<{ id: string }>).map((row) => row.id);
      expect(ids).to.deep.equal([dialog.toTag]);
    });
  });

  it('does not restore a subscription that expired while the daemon was down', async function () {
    await start({ minExpires: 1 });
    const client = track(await UdpSipClient.open(port));
    const shortUser = `short-${newTag()}`;
    const short = await client.subscribeDialog({ fromUser: shortUser, user: '7000', expires: 2 });
    const subscribedAt = Date.now();
    const long = await client.subscribeDialog({ fromUser: `long-${newTag()}`, user: '7000', expires: 600 });
    await short.nextNotify();
    await long.nextNotify();
    await sleep(PERSISTED_MS);

    await server!.kill();
    await sleep(Math.max(0, subscribedAt + 2500 - Date.now()));
    await start({ minExpires: 1 });
    expect(subscriptionState(await long.nextNotify(8000)).state, 'the unexpired one is back').to.equal('active');
    await short.expectNoNotify(1500);
    expect(await listedSubscriptions(server!, shortUser)).to.equal(0);
  });
});
