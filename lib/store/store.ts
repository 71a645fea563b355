/**
 * Persistence interface for presenced: CustomPresence states, Custom: device states, SIP subscription dialogs,
 * PUBLISHed states and small documents (the panel's state list and user settings).
 * Every backend passes the shared suite in test/store/conformance.ts; see docs/STORE.md. Telling other nodes that
 * something changed is the ChangeBus's job (change-bus.ts), not the store's.
 */
import type { DeviceState } from '../devices/device-state.js';
import type { PresenceStateName } from '../presence/state.js';
import { isRedisUrl, parseRedisUrl } from './redis-url.js';

export interface PresenceRecord {
  /** CustomPresence name, e.g. '6002' (case-sensitive key). */
  name: string;
  state: PresenceStateName;
  subtype: string;
  message: string;
  /** Set with the 'e' option: subtype and message are base64 encoded. */
  base64: boolean;
  /** ms since epoch */
  updatedAt: number;
  /** The state key's version when it was set (Store.nextVersion): orders changes alike on every node. */
  version: number;
}

/** The state of a `Custom:` device, as `devicestate change` or AMI set it (Asterisk keeps them in astdb). */
export interface DeviceStateRecord {
  /** The name after 'Custom:', e.g. '2000' (case-sensitive key). */
  name: string;
  state: DeviceState;
  /** ms since epoch */
  updatedAt: number;
  /** The state key's version when it was set (Store.nextVersion). */
  version: number;
}

/** A persisted SIP subscription dialog. The store treats `data` as opaque (JSON text written by the subscription layer). */
export interface SubscriptionRecord {
  /** dialog id */
  id: string;
  /** ms since epoch */
  expiresAt: number;
  data: string;
  /** The node that holds the watcher's flow and sends its NOTIFYs ('' in records older than ownership). */
  owner: string;
}

/** A live RFC 3903 publication: presence state a user agent PUBLISHed for a CustomPresence name. */
export interface PublicationRecord {
  /** The entity-tag (SIP-ETag) that currently identifies it; unique key. */
  etag: string;
  /** CustomPresence name it drives, e.g. '6002' (case-sensitive). */
  name: string;
  state: PresenceStateName;
  subtype: string;
  message: string;
  /** Who published it, for people reading logs and listings (From URI and User-Agent). */
  source: string;
  /** ms since epoch: when the published state last changed (initial or modifying PUBLISH, not a refresh). */
  changedAt: number;
  /** ms since epoch */
  expiresAt: number;
  /** The state key's version when the published state last changed (Store.nextVersion). */
  version: number;
  /** The address the initial PUBLISH came from, so the per-source cap still counts it after a restart ('' unknown). */
  address: string;
}

/** A small JSON document kept by key: the panel's state list ('panel/states'), a user's settings ('panel/settings/6001'). */
export interface DocumentRecord {
  key: string;
  /** JSON text; the store treats it as opaque. */
  data: string;
}

/** A page of loadSubscriptions: the records after `after` (the last one of the previous page), at most `limit`. */
export interface SubscriptionPage {
  after?: Pick<SubscriptionRecord, 'id' | 'expiresAt'>;
  limit?: number;
}

export interface Store {
  /** 'memory' | 'sqlite' | 'redis' */
  readonly kind: string;
  /**
   * Increments and returns the version of a state key ('CustomPresence:6002'), atomically for every node sharing the
   * store: each change takes one, so "changed last" means "highest version", whatever the nodes' clocks say.
   */
  nextVersion(key: string): Promise<number>;
  /**
   * A conditional write: saves unless the stored record has a version at least as high (a later change already
   * landed); resolves whether it saved. Durable when the promise resolves (SQLite: committed with synchronous=FULL)
   * — the CLI is answered after this.
   */
  savePresence(record: PresenceRecord): Promise<boolean>;
  deletePresence(name: string): Promise<void>;
  /** All records, sorted by name in Unicode code point order (the byte order of their UTF-8 encoding). */
  loadPresence(): Promise<PresenceRecord[]>;
  getPresence(name: string): Promise<PresenceRecord | undefined>;
  /** A conditional write like savePresence: durable when the promise resolves (the CLI is answered after this). */
  saveDeviceState(record: DeviceStateRecord): Promise<boolean>;
  /** All records, sorted by name in Unicode code point order. */
  loadDeviceStates(): Promise<DeviceStateRecord[]>;
  /** One device's record (what another node re-reads after a change). */
  getDeviceState(name: string): Promise<DeviceStateRecord | undefined>;
  /**
   * Upsert many subscription records and delete many ids in ONE transaction (the subscription layer batches).
   * Deletes are applied after upserts, so an id present in both lists ends up deleted.
   */
  writeSubscriptions(upserts: SubscriptionRecord[], deletes: string[]): Promise<void>;
  /**
   * Records latest expiry first (equal expiries: id descending, in code point order), at most `page.limit` of them, and with
   * `page.after` only those that come after that record in this order: a large store is read a page at a time.
   */
  loadSubscriptions(page?: SubscriptionPage): Promise<SubscriptionRecord[]>;
  /** Deletes subscriptions with expiresAt <= now; returns how many. */
  purgeExpiredSubscriptions(now: number): Promise<number>;
  /**
   * Deletes the `replaces` etag, if given, and upserts by etag, in one transaction: each refresh or modification
   * gives a publication a new entity-tag (RFC 3903 §6 step 7). Durable when the promise resolves.
   */
  savePublication(record: PublicationRecord, replaces?: string): Promise<void>;
  /** Missing etag: no-op. */
  deletePublication(etag: string): Promise<void>;
  /** All records, any order. */
  loadPublications(): Promise<PublicationRecord[]>;
  /** The records of one CustomPresence name, any order (what another node re-reads after a change). */
  getPublications(name: string): Promise<PublicationRecord[]>;
  /** Deletes publications with expiresAt <= now; returns how many. */
  purgeExpiredPublications(now: number): Promise<number>;
  /**
   * Upserts by key and deletes the `replaces` key, if given and another, in one transaction (a published dialog that
   * a refresh gives a new entity-tag). Durable when the promise resolves.
   */
  saveDocument(record: DocumentRecord, replaces?: string): Promise<void>;
  /** Missing key: no-op. */
  deleteDocument(key: string): Promise<void>;
  /** The documents whose key starts with `prefix`, sorted by key in code point order. */
  loadDocuments(prefix: string): Promise<DocumentRecord[]>;
  /** Records that `node` is alive until `untilMs` (ms since epoch); it renews well before then. */
  renewLease(node: string, untilMs: number): Promise<void>;
  /** The nodes whose lease ran out before `now`. */
  expiredLeases(now: number): Promise<string[]>;
  /**
   * Removes `node`'s lease if it is still expired at `now`, atomically for every node sharing the store: exactly one
   * caller gets true and takes over the node's subscriptions.
   */
  takeOver(node: string, now: number): Promise<boolean>;
  /** Idempotent; every other method rejects with StoreClosedError afterwards. */
  close(): Promise<void>;
}

/** 'sqlite', 'memory' or a Redis URL (redis://HOST:PORT[/DB]: shared by several nodes). */
export type StoreKind = 'sqlite' | 'memory' | `redis://${string}` | `rediss://${string}`;

/** Raised (as a rejection) by any store method other than close() once the store is closed. */
export class StoreClosedError extends Error {
  constructor(kind: string) {
    super(`${kind} store is closed`);
    this.name = 'StoreClosedError';
  }
}

/**
 * sqlite: file `<dataDir>/presenced.sqlite` (creates dataDir recursively); memory: dataDir ignored; a Redis URL:
 * that database, whose schema version must be this presenced's (`warn` hears of a clock far off Redis's).
 */
export async function openStore(kind: StoreKind, dataDir: string, warn?: (message: string) => void): Promise<Store> {
  // Backends are loaded on demand so the memory store never loads the native SQLite addon.
  if (isRedisUrl(kind)) {
    const { openRedisStore } = await import('./redis-store.js');
    return openRedisStore(parseRedisUrl(kind), warn);
  }
  switch (kind) {
    case 'memory': {
      const { createMemoryStore } = await import('./memory-store.js');
      return createMemoryStore();
    }
    case 'sqlite': {
      const { openSqliteStore } = await import('./sqlite-store.js');
      return openSqliteStore(dataDir, warn);
    }
    default:
      // Reachable when the kind comes from unchecked configuration.
      throw new Error(`unknown store kind '${String(kind)}' (expected 'sqlite', 'memory' or redis://HOST:PORT[/DB])`);
  }
}
