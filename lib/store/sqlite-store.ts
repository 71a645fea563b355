import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PresenceStateName } from '../presence/state.js';
import { DISK_WORKER_MODULE, type DiskWorkerAnswer, type DiskWorkerData, type DiskWorkerRequest } from './sqlite-disk-worker.js';
import { StoreClosedError, type DeviceStateRecord, type DocumentRecord, type PresenceRecord, type PublicationRecord, type Store, type SubscriptionPage, type SubscriptionRecord } from './store.js';

export const SQLITE_FILE_NAME = 'presenced.sqlite';
/** How often the disk thread copies the write-ahead log into the database. */
const CHECKPOINT_INTERVAL_MS = 1000;
/** SQLite's own default, for when the disk thread is gone: the store's connection checkpoints again. */
const AUTOCHECKPOINT_PAGES = 1000;
/** A disk thread that does not stop within this is terminated. */
const DISK_WORKER_STOP_MS = 5000;

/** Migration N (0-based) upgrades a database from user_version N to N + 1. Never edit a released entry; append. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE presence (
     name       TEXT    PRIMARY KEY NOT NULL,
     state      TEXT    NOT NULL,
     subtype    TEXT    NOT NULL,
     message    TEXT    NOT NULL,
     base64     INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE subscriptions (
     id         TEXT    PRIMARY KEY NOT NULL,
     expires_at INTEGER NOT NULL,
     data       TEXT    NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX subscriptions_by_expiry ON subscriptions (expires_at);`,
  `CREATE TABLE publications (
     etag       TEXT    PRIMARY KEY NOT NULL,
     name       TEXT    NOT NULL,
     state      TEXT    NOT NULL,
     subtype    TEXT    NOT NULL,
     message    TEXT    NOT NULL,
     source     TEXT    NOT NULL,
     changed_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX publications_by_expiry ON publications (expires_at);`,
  `CREATE TABLE versions (
     key     TEXT    PRIMARY KEY NOT NULL,
     version INTEGER NOT NULL
   ) WITHOUT ROWID;
   ALTER TABLE presence ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE publications ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE subscriptions ADD COLUMN owner TEXT NOT NULL DEFAULT '';
   CREATE INDEX publications_by_name ON publications (name);`,
  `CREATE TABLE documents (
     key  TEXT PRIMARY KEY NOT NULL,
     data TEXT NOT NULL
   ) WITHOUT ROWID;`,
  `CREATE TABLE device_states (
     name       TEXT    PRIMARY KEY NOT NULL,
     state      TEXT    NOT NULL,
     updated_at INTEGER NOT NULL,
     version    INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  "ALTER TABLE publications ADD COLUMN address TEXT NOT NULL DEFAULT '';",
  `CREATE TABLE leases (
     node     TEXT    PRIMARY KEY NOT NULL,
     until_ms INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Restore reads subscriptions a page at a time after the last (expiry, id) read: with the id in the index that is
  // a range search; with the expiry alone every page sorted all rows of equal expiry again.
  `CREATE INDEX subscriptions_by_expiry_and_id ON subscriptions (expires_at, id);
   DROP INDEX subscriptions_by_expiry;`,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

interface PresenceRow {
  name: string;
  state: PresenceStateName;
  subtype: string;
  message: string;
  base64: number;
  updatedAt: number;
  version: number;
}

const PRESENCE_COLUMNS = 'name, state, subtype, message, base64, updated_at AS updatedAt, version';
const PUBLICATION_COLUMNS = 'etag, name, state, subtype, message, source, changed_at AS changedAt, expires_at AS expiresAt, version, address';
const SUBSCRIPTION_COLUMNS = 'id, expires_at AS expiresAt, data, owner';

function toPresenceRecord(row: PresenceRow): PresenceRecord {
  return { ...row, base64: row.base64 !== 0 };
}

function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function assertSupportedVersion(version: number): void {
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this presenced supports (${SQLITE_SCHEMA_VERSION})`);
  }
}

function migrate(db: Database.Database): void {
  const version = schemaVersion(db);
  assertSupportedVersion(version);
  if (version === SQLITE_SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock before re-reading the version, so two processes opening a fresh
  // directory at once cannot both run the same migration.
  db.transaction(() => {
    const current = schemaVersion(db);
    assertSupportedVersion(current);
    for (let version = current; version < SQLITE_SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version]);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private closed = false;
  private readonly bumpVersion: Database.Statement<[string], { version: number }>;
  private readonly upsertLease: Database.Statement<[string, number]>;
  private readonly selectExpiredLeases: Database.Statement<[number], { node: string }>;
  private readonly removeExpiredLease: Database.Statement<[string, number]>;
  private readonly upsertPresence: Database.Statement<[string, string, string, string, number, number, number, number]>;
  private readonly removePresence: Database.Statement<[string]>;
  private readonly selectAllPresence: Database.Statement<[], PresenceRow>;
  private readonly selectPresence: Database.Statement<[string], PresenceRow>;
  private readonly upsertDeviceState: Database.Statement<[string, string, number, number, number]>;
  private readonly selectDeviceStates: Database.Statement<[], DeviceStateRecord>;
  private readonly selectDeviceState: Database.Statement<[string], DeviceStateRecord>;
  private readonly upsertSubscription: Database.Statement<[string, number, string, string]>;
  private readonly removeSubscription: Database.Statement<[string]>;
  private readonly selectSubscriptions: Database.Statement<[number], SubscriptionRecord>;
  private readonly selectSubscriptionsAfter: Database.Statement<[number, string, number], SubscriptionRecord>;
  private readonly removeExpiredSubscriptions: Database.Statement<[number]>;
  private readonly writeSubscriptionBatch: (upserts: SubscriptionRecord[], deletes: string[]) => void;
  private readonly upsertPublication: Database.Statement<[string, string, string, string, string, string, number, number, number, string]>;
  private readonly removePublication: Database.Statement<[string]>;
  private readonly selectPublications: Database.Statement<[], PublicationRecord>;
  private readonly selectPublicationsOf: Database.Statement<[string], PublicationRecord>;
  private readonly removeExpiredPublications: Database.Statement<[number]>;
  private readonly replacePublication: (record: PublicationRecord, replaces: string | undefined) => void;
  private readonly upsertDocument: Database.Statement<[string, string]>;
  private readonly removeDocument: Database.Statement<[string]>;
  private readonly replaceDocument: (record: DocumentRecord, replaces: string | undefined) => void;
  private readonly selectDocuments: Database.Statement<[string, string], DocumentRecord>;

  /** The thread that fsyncs (sqlite-disk-worker.ts); undefined once it is gone, and this thread fsyncs again. */
  private diskWorker: Worker | undefined;
  /** Durable writes waiting for the disk thread's fdatasync, by request id. */
  private readonly waitingForFlush = new Map<number, () => void>();
  private lastFlushId = 0;

  constructor(private readonly db: Database.Database, file: string, warn: (message: string) => void) {
    this.startDiskWorker(file, warn);
    this.upsertLease = db.prepare('INSERT OR REPLACE INTO leases (node, until_ms) VALUES (?, ?)');
    this.selectExpiredLeases = db.prepare('SELECT node FROM leases WHERE until_ms < ?');
    this.removeExpiredLease = db.prepare('DELETE FROM leases WHERE node = ? AND until_ms < ?');
    this.bumpVersion = db.prepare(
      'INSERT INTO versions (key, version) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET version = version + 1 RETURNING version',
    );
    // Conditional: a record only replaces one with a lower version (the upsert's WHERE skips the others).
    this.upsertPresence = db.prepare(
      `INSERT INTO presence (name, state, subtype, message, base64, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = excluded.state, subtype = excluded.subtype, message = excluded.message,
         base64 = excluded.base64, updated_at = excluded.updated_at, version = excluded.version
       WHERE presence.version < ?`,
    );
    this.removePresence = db.prepare('DELETE FROM presence WHERE name = ?');
    this.selectAllPresence = db.prepare(`SELECT ${PRESENCE_COLUMNS} FROM presence ORDER BY name`);
    this.selectPresence = db.prepare(`SELECT ${PRESENCE_COLUMNS} FROM presence WHERE name = ?`);
    this.upsertDeviceState = db.prepare(
      `INSERT INTO device_states (name, state, updated_at, version) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, version = excluded.version
       WHERE device_states.version < ?`,
    );
    this.selectDeviceStates = db.prepare('SELECT name, state, updated_at AS updatedAt, version FROM device_states ORDER BY name');
    this.selectDeviceState = db.prepare('SELECT name, state, updated_at AS updatedAt, version FROM device_states WHERE name = ?');
    this.upsertSubscription = db.prepare('INSERT OR REPLACE INTO subscriptions (id, expires_at, data, owner) VALUES (?, ?, ?, ?)');
    this.removeSubscription = db.prepare('DELETE FROM subscriptions WHERE id = ?');
    // Latest expiry first, as the (expiry, id) index reads backwards; a page starts after the last row of the one before.
    const latestFirst = 'ORDER BY expires_at DESC, id DESC LIMIT ?';
    this.selectSubscriptions = db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions ${latestFirst}`);
    this.selectSubscriptionsAfter = db.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE (expires_at, id) < (?, ?) ${latestFirst}`);
    this.removeExpiredSubscriptions = db.prepare('DELETE FROM subscriptions WHERE expires_at <= ?');
    this.writeSubscriptionBatch = db.transaction((upserts: SubscriptionRecord[], deletes: string[]) => {
      for (const record of upserts) this.upsertSubscription.run(record.id, record.expiresAt, record.data, record.owner);
      for (const id of deletes) this.removeSubscription.run(id);
    });
    this.upsertPublication = db.prepare(
      `INSERT OR REPLACE INTO publications (etag, name, state, subtype, message, source, changed_at, expires_at, version, address)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.removePublication = db.prepare('DELETE FROM publications WHERE etag = ?');
    this.selectPublications = db.prepare(`SELECT ${PUBLICATION_COLUMNS} FROM publications`);
    this.selectPublicationsOf = db.prepare(`SELECT ${PUBLICATION_COLUMNS} FROM publications WHERE name = ?`);
    this.removeExpiredPublications = db.prepare('DELETE FROM publications WHERE expires_at <= ?');
    this.replacePublication = db.transaction((record: PublicationRecord, replaces: string | undefined) => {
      if (replaces !== undefined) this.removePublication.run(replaces);
      const { etag, name, state, subtype, message, source, changedAt, expiresAt, version, address } = record;
      this.upsertPublication.run(etag, name, state, subtype, message, source, changedAt, expiresAt, version, address);
    });
    this.upsertDocument = db.prepare('INSERT OR REPLACE INTO documents (key, data) VALUES (?, ?)');
    this.removeDocument = db.prepare('DELETE FROM documents WHERE key = ?');
    this.replaceDocument = db.transaction((record: DocumentRecord, replaces: string | undefined) => {
      if (replaces !== undefined && replaces !== record.key) this.removeDocument.run(replaces);
      this.upsertDocument.run(record.key, record.data);
    });
    // substr, not LIKE: a prefix holding % or _ must match only itself.
    this.selectDocuments = db.prepare('SELECT key, data FROM documents WHERE substr(key, 1, length(?)) = ? ORDER BY key');
  }

  async nextVersion(key: string): Promise<number> {
    return this.durably(() => (this.bumpVersion.get(key) as { version: number }).version);
  }

  async savePresence(record: PresenceRecord): Promise<boolean> {
    const { name, state, subtype, message, base64, updatedAt, version } = record;
    return this.durably(() => this.upsertPresence.run(name, state, subtype, message, base64 ? 1 : 0, updatedAt, version, version).changes > 0);
  }

  async deletePresence(name: string): Promise<void> {
    await this.durably(() => this.removePresence.run(name));
  }

  async loadPresence(): Promise<PresenceRecord[]> {
    this.assertOpen();
    return this.selectAllPresence.all().map(toPresenceRecord);
  }

  async getPresence(name: string): Promise<PresenceRecord | undefined> {
    this.assertOpen();
    const row = this.selectPresence.get(name);
    return row && toPresenceRecord(row);
  }

  async saveDeviceState(record: DeviceStateRecord): Promise<boolean> {
    const { name, state, updatedAt, version } = record;
    return this.durably(() => this.upsertDeviceState.run(name, state, updatedAt, version, version).changes > 0);
  }

  async loadDeviceStates(): Promise<DeviceStateRecord[]> {
    this.assertOpen();
    return this.selectDeviceStates.all();
  }

  async getDeviceState(name: string): Promise<DeviceStateRecord | undefined> {
    this.assertOpen();
    return this.selectDeviceState.get(name);
  }

  async writeSubscriptions(upserts: SubscriptionRecord[], deletes: string[]): Promise<void> {
    this.assertOpen();
    // Subscription batches are frequent and only need to survive a crash of this process, which a commit to the
    // log guarantees without an fsync; presence states wait for theirs (power loss too).
    this.writeSubscriptionBatch(upserts, deletes);
  }

  async loadSubscriptions(page: SubscriptionPage = {}): Promise<SubscriptionRecord[]> {
    this.assertOpen();
    const { after, limit = -1 } = page;
    if (after === undefined) return this.selectSubscriptions.all(limit);
    return this.selectSubscriptionsAfter.all(after.expiresAt, after.id, limit);
  }

  async purgeExpiredSubscriptions(now: number): Promise<number> {
    this.assertOpen();
    return this.removeExpiredSubscriptions.run(now).changes;
  }

  async savePublication(record: PublicationRecord, replaces?: string): Promise<void> {
    await this.durably(() => this.replacePublication(record, replaces));
  }

  async deletePublication(etag: string): Promise<void> {
    await this.durably(() => this.removePublication.run(etag));
  }

  async loadPublications(): Promise<PublicationRecord[]> {
    this.assertOpen();
    return this.selectPublications.all();
  }

  async getPublications(name: string): Promise<PublicationRecord[]> {
    this.assertOpen();
    return this.selectPublicationsOf.all(name);
  }

  async purgeExpiredPublications(now: number): Promise<number> {
    return this.durably(() => this.removeExpiredPublications.run(now).changes);
  }

  async saveDocument(record: DocumentRecord, replaces?: string): Promise<void> {
    await this.durably(() => this.replaceDocument(record, replaces));
  }

  async deleteDocument(key: string): Promise<void> {
    await this.durably(() => this.removeDocument.run(key));
  }

  async loadDocuments(prefix: string): Promise<DocumentRecord[]> {
    this.assertOpen();
    return this.selectDocuments.all(prefix, prefix);
  }

  async renewLease(node: string, untilMs: number): Promise<void> {
    await this.durably(() => this.upsertLease.run(node, untilMs));
  }

  async expiredLeases(now: number): Promise<string[]> {
    this.assertOpen();
    return this.selectExpiredLeases.all(now).map((row) => row.node);
  }

  async takeOver(node: string, now: number): Promise<boolean> {
    return this.durably(() => this.removeExpiredLease.run(node, now).changes > 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopDiskWorker();
    // The last connection to close checkpoints what is left (fsynced) and removes the log: any write still waiting
    // (a disk thread that had to be terminated) is durable after it.
    this.db.close();
    for (const resolve of this.waitingForFlush.values()) resolve();
    this.waitingForFlush.clear();
  }

  /**
   * Runs a write and resolves once it is durable (power loss too): committed to the log, then the log fsynced by the
   * disk thread, or here with synchronous=FULL when there is no disk thread.
   */
  private async durably<T>(write: () => T): Promise<T> {
    this.assertOpen();
    const result = write();
    const diskWorker = this.diskWorker;
    if (diskWorker) {
      const id = ++this.lastFlushId;
      await new Promise<void>((resolve) => {
        this.waitingForFlush.set(id, resolve);
        diskWorker.postMessage({ flush: id } satisfies DiskWorkerRequest);
      });
    }
    return result;
  }

  private startDiskWorker(file: string, warn: (message: string) => void): void {
    const workerData: DiskWorkerData = { file, checkpointIntervalMs: CHECKPOINT_INTERVAL_MS };
    const diskWorker = new Worker(DISK_WORKER_MODULE, { workerData });
    diskWorker.unref();
    this.diskWorker = diskWorker;
    this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma('synchronous = NORMAL');
    diskWorker.on('message', ({ flushed }: DiskWorkerAnswer) => {
      // Answers come in order: this one covers every commit asked about before it.
      for (const [id, resolve] of this.waitingForFlush) {
        if (id > flushed) break;
        this.waitingForFlush.delete(id);
        resolve();
      }
    });
    // A thread that fails or exits while the store still uses it: carry on without it.
    const fallBack = (what: string): void => {
      if (this.diskWorker !== diskWorker) return;
      this.diskWorker = undefined;
      if (this.closed) return;
      // Back to SQLite's own ways: each durable commit fsyncs itself, and the connection checkpoints.
      this.db.pragma('synchronous = FULL');
      this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      // Those still waiting were committed without a flush: one checkpoint here makes them durable.
      if (this.waitingForFlush.size > 0) this.db.pragma('wal_checkpoint(FULL)');
      for (const resolve of this.waitingForFlush.values()) resolve();
      this.waitingForFlush.clear();
      warn(`the disk thread ${what}; fsyncs are back on the main thread, where a slow disk holds up SIP`);
    };
    diskWorker.once('error', (error) => fallBack(`failed (${error.message})`));
    diskWorker.once('exit', (code) => fallBack(`exited (code ${code})`));
  }

  private async stopDiskWorker(): Promise<void> {
    const diskWorker = this.diskWorker;
    if (!diskWorker) return;
    this.diskWorker = undefined;
    const exited = new Promise<void>((resolve) => diskWorker.once('exit', () => resolve()));
    // After any flush still asked for: the worker answers those first.
    diskWorker.postMessage({ stop: true } satisfies DiskWorkerRequest);
    const timer = setTimeout(() => void diskWorker.terminate(), DISK_WORKER_STOP_MS);
    await exited;
    clearTimeout(timer);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.kind);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Opens (creating and migrating as needed) `<dataDir>/presenced.sqlite`. Failures name the path at fault. */
export async function openSqliteStore(dataDir: string, warn: (message: string) => void = () => undefined): Promise<Store> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new Error(`cannot create store directory ${dataDir}: ${reason(error)}`, { cause: error });
  }
  const file = path.join(dataDir, SQLITE_FILE_NAME);
  let db: Database.Database | undefined;
  try {
    // Readable by this user only (SQLite gives its -wal and -shm files the database file's mode).
    await (await open(file, 'a', 0o600)).close();
    await chmod(file, 0o600);
    db = new Database(file);
    // The first statement reads the header, so a corrupt file fails here rather than on first use.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    return new SqliteStore(db, file, warn);
  } catch (error) {
    db?.close();
    throw new Error(`cannot open store database ${file}: ${reason(error)}`, { cause: error });
  }
}
