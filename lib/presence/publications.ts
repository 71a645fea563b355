/**
 * The live RFC 3903 publications of one event's state, per resource name: entity-tag → state, expiry and publisher,
 * written through to their storage, expired with one TimerQueue. Presence (per CustomPresence name, in the store's
 * publications) and published dialogs (per extension, lib/devices) both keep theirs here; combining a name's
 * publications is their owner's job.
 */
import type { PublicationRecord, Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { randomHex } from '../util/random.js';
import { TimerQueue, type Scheduled } from '../util/timer-queue.js';
import { isStateName, sameState, type PresenceState } from './state.js';
import type { Limits } from '../limits/limits.js';
import { REFUSALS, type Refusal } from '../limits/refusals.js';
import { LogSummary } from '../util/log-summary.js';

export interface Publication<S = PresenceState> {
  /** The entity-tag (SIP-ETag) that identifies it now; a refresh or modification replaces it. */
  readonly etag: string;
  /** The resource it drives: a CustomPresence name, an extension. */
  readonly name: string;
  readonly state: S;
  /** Who published it (From URI and User-Agent), for logs. */
  readonly source: string;
  /** ms since epoch, from the owner's clock: when the published state last changed. A refresh keeps it. */
  readonly changedAt: number;
  /** ms since epoch */
  readonly expiresAt: number;
  /** The state key's version when the published state last changed: what orders it against other changes. */
  readonly version: number;
}

/** When a change happened (wall clock, for people) and where it stands among the key's changes (for ordering). */
export interface Stamp {
  at: number;
  version: number;
}

export type PublicationCaps = Pick<Limits, 'maxPublications' | 'maxPublicationsPerPresentity' | 'maxPublicationsPerSource'>;

/** One name takes at most 32 live publications (a desk phone, softphones, a few stale ones), 8 from one address. */
export const DEFAULT_PUBLICATION_CAPS: PublicationCaps = { maxPublications: Infinity, maxPublicationsPerPresentity: 32, maxPublicationsPerSource: 8 };

/** A publication's next version: a new state (modification) or only a new expiry (refresh). */
export interface PublicationUpdate<S = PresenceState> {
  state?: S;
  source: string;
  expiresAt: number;
}

/** A publication as its storage keeps it: with the address its initial PUBLISH came from, for the per-source cap
 *  after a restart ('' for a row stored before addresses were kept). */
export interface StoredPublication<S> extends Publication<S> {
  readonly address: string;
}

/** Where one kind of publication is kept, and what its states are. */
export interface PublicationStorage<S> {
  /** Whether a modification changes nothing (its changedAt and version then stay). */
  same(a: S, b: S): boolean;
  /** The state as every reader shares it (bodies are cached by state identity): frozen. */
  freeze(state: S): S;
  /** Deletes `replaces`, if given, and saves `publication`, in one durable step. */
  save(publication: StoredPublication<S>, replaces?: string): Promise<void>;
  delete(publication: Publication<S>): Promise<void>;
  /** Drops the expired ones, then reads every stored one; those that cannot be read are counted, not returned. */
  load(now: number): Promise<{ publications: Array<StoredPublication<S>>; unreadable: number }>;
  /** The readable stored publications of one name (what another node re-reads after a change). */
  loadName(name: string): Promise<Array<StoredPublication<S>>>;
}

interface Entry<S> extends StoredPublication<S>, Scheduled {}

/** RFC 3903 §6 step 7: entity-tags are unique and unguessable (64 random bits; the grammar is a SIP token). */
function newEntityTag(): string {
  return randomHex(8);
}

/** States are shared with every reader (NOTIFY bodies are cached by state identity), so they must not change. */
function frozen({ state, subtype, message }: PresenceState): PresenceState {
  return Object.freeze({ state, subtype, message });
}

function toRecord(publication: StoredPublication<PresenceState>): PublicationRecord {
  const { etag, name, state, source, changedAt, expiresAt, version, address } = publication;
  return { etag, name, state: state.state, subtype: state.subtype, message: state.message, source, changedAt, expiresAt, version, address };
}

function fromRecord(record: PublicationRecord): StoredPublication<PresenceState> {
  const { etag, name, state, subtype, message, source, changedAt, expiresAt, version, address } = record;
  return { etag, name, state: frozen({ state, subtype, message }), source, changedAt, expiresAt, version, address };
}

/** What is wrong with a stored publication, if anything (a broken file must not stop the start). */
function recordProblem(record: PublicationRecord): string | undefined {
  for (const field of ['etag', 'name', 'subtype', 'message', 'source', 'address'] as const) {
    if (typeof record[field] !== 'string') return `${field} is not text`;
  }
  if (!isStateName(record.state)) return 'unknown state';
  if (!Number.isSafeInteger(record.changedAt) || !Number.isSafeInteger(record.expiresAt)) return 'times are not whole numbers';
  if (!Number.isSafeInteger(record.version)) return 'version is not a whole number';
  return undefined;
}

/** Presence publications live in the store's publications (docs/STORE.md). */
export function presencePublicationStorage(store: Store): PublicationStorage<PresenceState> {
  return {
    same: sameState,
    freeze: frozen,
    save: (publication, replaces) => store.savePublication(toRecord(publication), replaces),
    delete: (publication) => store.deletePublication(publication.etag),
    async load(now) {
      await store.purgeExpiredPublications(now);
      const records = await store.loadPublications();
      const readable = records.filter((record) => recordProblem(record) === undefined);
      return { publications: readable.map(fromRecord), unreadable: records.length - readable.length };
    },
    loadName: async (name) => (await store.getPublications(name)).filter((record) => recordProblem(record) === undefined).map(fromRecord),
  };
}

function entryOf<S>(publication: StoredPublication<S>): Entry<S> {
  return { ...publication, dueAt: 0, heapIndex: -1 };
}

/**
 * Every change is durable before its promise resolves and before `changed(name)` is called. Changes run one at a
 * time, so two requests for the same entity-tag cannot both succeed (the second one finds it replaced: 412).
 */
export class Publications<S = PresenceState> {
  private readonly byEtag = new Map<string, Entry<S>>();
  private readonly byName = new Map<string, Array<Entry<S>>>();
  private readonly expiry = new TimerQueue<Entry<S>>((entry) => {
    this.serially(() => this.expire(entry)).catch((error: unknown) =>
      this.log.error(`publish: expiring ${entry.etag} for ${entry.name} failed: ${(error as Error).stack ?? String(error)}`));
  });
  private tail: Promise<unknown> = Promise.resolve();
  private readonly summary: LogSummary;

  /**
   * @param changed called after any change to a name's publications (added, updated, removed, expired), with the
   *   version the change took when it took one (a new or modified state), and who removed it when not the publisher
   * @param stamp gives a new state its changedAt and version; the owner compares them with its own changes
   */
  constructor(
    private readonly storage: PublicationStorage<S>,
    private readonly changed: (name: string, version?: number, source?: string) => void,
    private readonly stamp: (name: string) => Promise<Stamp>,
    private readonly log: Logger,
    private readonly caps: PublicationCaps = DEFAULT_PUBLICATION_CAPS,
  ) {
    this.summary = new LogSummary(log);
  }

  /**
   * Reads the stored publications, dropping the expired ones. Call once, before anything else. Records that are not
   * publications, or over the caps, are left out with one WARN each kind.
   */
  async load(now = Date.now()): Promise<void> {
    const { publications, unreadable } = await this.storage.load(now);
    let overCaps = 0;
    for (const publication of publications) {
      if (this.capReached(publication.name, publication.address) !== undefined) overCaps++;
      else this.insert(entryOf(publication));
    }
    if (unreadable > 0) this.log.warn(`store: skipped ${unreadable} unreadable publication record(s)`);
    if (overCaps > 0) this.log.warn(`store: left out ${overCaps} stored publication(s) over the limits`);
  }

  /** How many are live. */
  get size(): number {
    return this.byEtag.size;
  }

  /** Names with live publications. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** The live publications of a name, in no particular order. */
  live(name: string): ReadonlyArray<Publication<S>> {
    return this.byName.get(name) ?? [];
  }

  /** An initial PUBLISH from `address`; refused when it would exceed a cap (logged once per episode). */
  add(name: string, state: S, source: string, expiresAt: number, address = ''): Promise<Publication<S> | Refusal> {
    return this.serially(async () => {
      const refusal = this.capReached(name, address);
      if (refusal) {
        this.summary.note('warn', `PUBLISHes refused: ${refusal.reason}`, () =>
          `publish: refusing new publications (${refusal.reason}; latest from ${address} for ${name})`);
        return refusal;
      }
      const { at, version } = await this.stamp(name);
      const entry = entryOf<S>({ etag: newEntityTag(), name, state: this.storage.freeze(state), source, changedAt: at, expiresAt, version, address });
      await this.storage.save(entry);
      this.insert(entry);
      this.changed(name, version);
      return entry;
    });
  }

  /** A refresh or modification (PUBLISH with SIP-If-Match): the publication gets a new entity-tag. Undefined when
   *  `etag` is not a live publication of `name` (412). changedAt moves only when the state really changes. */
  update(name: string, etag: string, update: PublicationUpdate<S>): Promise<Publication<S> | undefined> {
    return this.serially(async () => {
      const current = this.find(name, etag);
      if (!current) return undefined;
      const newState = update.state !== undefined && !this.storage.same(update.state, current.state) ? update.state : undefined;
      const stamp = newState !== undefined ? await this.stamp(name) : { at: current.changedAt, version: current.version };
      const next = entryOf<S>({
        etag: newEntityTag(),
        name,
        state: newState !== undefined ? this.storage.freeze(newState) : current.state,
        source: update.source,
        changedAt: stamp.at,
        version: stamp.version,
        expiresAt: update.expiresAt,
        address: current.address,
      });
      await this.storage.save(next, etag);
      this.delete(current);
      this.insert(next);
      this.changed(name, newState !== undefined ? stamp.version : undefined);
      return next;
    });
  }

  /** The live publication with this entity-tag, whatever its name. */
  withTag(etag: string): Publication<S> | undefined {
    return this.byEtag.get(etag);
  }

  /**
   * A PUBLISH with Expires: 0, or an administrator's removal (`source` says who, for the audit line). Undefined when
   * `etag` is not a live publication of `name` (412).
   */
  remove(name: string, etag: string, source = 'sip'): Promise<Publication<S> | undefined> {
    return this.serially(async () => {
      const current = this.find(name, etag);
      if (!current) return undefined;
      await this.storage.delete(current);
      this.delete(current);
      this.changed(name, undefined, source);
      return current;
    });
  }

  /**
   * Re-reads a name's publications from the store (another node changed them), after every change of ours in
   * flight. The stored source addresses keep the per-source cap whichever node received each one.
   */
  reread(name: string): Promise<void> {
    return this.serially(async () => {
      const stored = await this.storage.loadName(name);
      const now = Date.now();
      for (const entry of [...(this.byName.get(name) ?? [])]) this.delete(entry);
      for (const publication of stored) if (publication.expiresAt > now) this.insert(entryOf(publication));
    });
  }

  stop(): void {
    this.expiry.stop();
    this.summary.stop();
  }

  private capReached(name: string, address: string): Refusal | undefined {
    if (this.byEtag.size >= this.caps.maxPublications) return REFUSALS.publicationsFull;
    const live = this.live(name) as Array<Entry<S>>;
    if (live.length >= this.caps.maxPublicationsPerPresentity) return REFUSALS.publicationsPerPresentity;
    // A row stored before addresses were kept has none: it counts only against the presentity.
    if (address !== '' && live.filter((entry) => entry.address === address).length >= this.caps.maxPublicationsPerSource) {
      return REFUSALS.publicationsPerSource;
    }
    return undefined;
  }

  private find(name: string, etag: string): Entry<S> | undefined {
    const entry = this.byEtag.get(etag);
    return entry?.name === name ? entry : undefined;
  }

  /** Runs `change` after every earlier change has finished, whatever its outcome. */
  private serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.tail.then(change);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async expire(entry: Entry<S>): Promise<void> {
    if (this.byEtag.get(entry.etag) !== entry) return;
    this.delete(entry);
    this.changed(entry.name);
    try {
      await this.storage.delete(entry);
    } catch (error) {
      // Harmless: an expired row is purged on the next load.
      this.log.warn(`publish: could not delete expired publication ${entry.etag}: ${(error as Error).message}`);
    }
  }

  private insert(entry: Entry<S>): void {
    this.byEtag.set(entry.etag, entry);
    const list = this.byName.get(entry.name);
    if (list) list.push(entry);
    else this.byName.set(entry.name, [entry]);
    this.expiry.schedule(entry, entry.expiresAt);
  }

  private delete(entry: Entry<S>): void {
    this.byEtag.delete(entry.etag);
    this.expiry.cancel(entry);
    const remaining = (this.byName.get(entry.name) ?? []).filter((other) => other !== entry);
    if (remaining.length > 0) this.byName.set(entry.name, remaining);
    else this.byName.delete(entry.name);
  }
}
