/**
 * The live RFC 3903 publications of presence state, per CustomPresence name: entity-tag → state, expiry and
 * publisher, written through to the store, expired with one TimerQueue. Aggregation is PresenceService's job.
 */
import type { PublicationRecord, Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { randomHex } from '../util/random.js';
import { TimerQueue, type Scheduled } from '../util/timer-queue.js';
import { isStateName, sameState, type PresenceState } from './state.js';
import type { Limits } from '../limits/limits.js';
import { REFUSALS, type Refusal } from '../limits/refusals.js';
import { LogSummary } from '../util/log-summary.js';

export interface Publication {
  /** The entity-tag (SIP-ETag) that identifies it now; a refresh or modification replaces it. */
  readonly etag: string;
  /** The CustomPresence name it drives. */
  readonly name: string;
  readonly state: PresenceState;
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
export interface PublicationUpdate {
  state?: PresenceState;
  source: string;
  expiresAt: number;
}

interface Entry extends Publication, Scheduled {
  /** The source address of the initial PUBLISH, for the per-source cap ('' for a row stored before it was kept). */
  readonly address: string;
}

/** RFC 3903 §6 step 7: entity-tags are unique and unguessable (64 random bits; the grammar is a SIP token). */
function newEntityTag(): string {
  return randomHex(8);
}

/** States are shared with every reader (NOTIFY bodies are cached by state identity), so they must not change. */
function frozen({ state, subtype, message }: PresenceState): PresenceState {
  return Object.freeze({ state, subtype, message });
}

function toRecord(entry: Entry): PublicationRecord {
  const { etag, name, state, source, changedAt, expiresAt, version, address } = entry;
  return { etag, name, state: state.state, subtype: state.subtype, message: state.message, source, changedAt, expiresAt, version, address };
}

function fromRecord(record: PublicationRecord): Entry {
  const { etag, name, state, subtype, message, source, changedAt, expiresAt, version, address } = record;
  return { etag, name, state: frozen({ state, subtype, message }), source, changedAt, expiresAt, version, address, dueAt: 0, heapIndex: -1 };
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

/**
 * Every change is durable before its promise resolves and before `changed(name)` is called. Changes run one at a
 * time, so two requests for the same entity-tag cannot both succeed (the second one finds it replaced: 412).
 */
export class Publications {
  private readonly byEtag = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry[]>();
  private readonly expiry = new TimerQueue<Entry>((entry) => {
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
    private readonly store: Store,
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
    await this.store.purgeExpiredPublications(now);
    let unreadable = 0;
    let overCaps = 0;
    for (const record of await this.store.loadPublications()) {
      if (recordProblem(record) !== undefined) unreadable++;
      else if (this.capReached(record.name, record.address) !== undefined) overCaps++;
      else this.insert(fromRecord(record));
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
  live(name: string): readonly Publication[] {
    return this.byName.get(name) ?? [];
  }

  /** An initial PUBLISH from `address`; refused when it would exceed a cap (logged once per episode). */
  add(name: string, state: PresenceState, source: string, expiresAt: number, address = ''): Promise<Publication | Refusal> {
    return this.serially(async () => {
      const refusal = this.capReached(name, address);
      if (refusal) {
        this.summary.note('warn', `PUBLISHes refused: ${refusal.reason}`, () =>
          `publish: refusing new publications (${refusal.reason}; latest from ${address} for ${name})`);
        return refusal;
      }
      const { at, version } = await this.stamp(name);
      const entry: Entry = { etag: newEntityTag(), name, state: frozen(state), source, changedAt: at, expiresAt, version, address, dueAt: 0, heapIndex: -1 };
      await this.store.savePublication(toRecord(entry));
      this.insert(entry);
      this.changed(name, version);
      return entry;
    });
  }

  /** A refresh or modification (PUBLISH with SIP-If-Match): the publication gets a new entity-tag. Undefined when
   *  `etag` is not a live publication of `name` (412). changedAt moves only when the state really changes. */
  update(name: string, etag: string, update: PublicationUpdate): Promise<Publication | undefined> {
    return this.serially(async () => {
      const current = this.find(name, etag);
      if (!current) return undefined;
      const newState = update.state !== undefined && !sameState(update.state, current.state) ? update.state : undefined;
      const stamp = newState ? await this.stamp(name) : { at: current.changedAt, version: current.version };
      const next: Entry = {
        etag: newEntityTag(),
        name,
        state: newState ? frozen(newState) : current.state,
        source: update.source,
        changedAt: stamp.at,
        version: stamp.version,
        expiresAt: update.expiresAt,
        address: current.address,
        dueAt: 0,
        heapIndex: -1,
      };
      await this.store.savePublication(toRecord(next), etag);
      this.delete(current);
      this.insert(next);
      this.changed(name, newState ? stamp.version : undefined);
      return next;
    });
  }

  /** The live publication with this entity-tag, whatever its name. */
  withTag(etag: string): Publication | undefined {
    return this.byEtag.get(etag);
  }

  /**
   * A PUBLISH with Expires: 0, or an administrator's removal (`source` says who, for the audit line). Undefined when
   * `etag` is not a live publication of `name` (412).
   */
  remove(name: string, etag: string, source = 'sip'): Promise<Publication | undefined> {
    return this.serially(async () => {
      const current = this.find(name, etag);
      if (!current) return undefined;
      await this.store.deletePublication(etag);
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
      const records = await this.store.getPublications(name);
      const now = Date.now();
      for (const entry of [...(this.byName.get(name) ?? [])]) this.delete(entry);
      for (const record of records) {
        if (recordProblem(record) === undefined && record.expiresAt > now) this.insert(fromRecord(record));
      }
    });
  }

  stop(): void {
    this.expiry.stop();
    this.summary.stop();
  }

  private capReached(name: string, address: string): Refusal | undefined {
    if (this.byEtag.size >= this.caps.maxPublications) return REFUSALS.publicationsFull;
    const live = this.live(name) as Entry[];
    if (live.length >= this.caps.maxPublicationsPerPresentity) return REFUSALS.publicationsPerPresentity;
    // A row stored before addresses were kept has none: it counts only against the presentity.
    if (address !== '' && live.filter((entry) => entry.address === address).length >= this.caps.maxPublicationsPerSource) {
      return REFUSALS.publicationsPerSource;
    }
    return undefined;
  }

  private find(name: string, etag: string): Entry | undefined {
    const entry = this.byEtag.get(etag);
    return entry?.name === name ? entry : undefined;
  }

  /** Runs `change` after every earlier change has finished, whatever its outcome. */
  private serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.tail.then(change);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async expire(entry: Entry): Promise<void> {
    if (this.byEtag.get(entry.etag) !== entry) return;
    this.delete(entry);
    this.changed(entry.name);
    try {
      await this.store.deletePublication(entry.etag);
    } catch (error) {
      // Harmless: an expired row is purged on the next load.
      this.log.warn(`publish: could not delete expired publication ${entry.etag}: ${(error as Error).message}`);
    }
  }

  private insert(entry: Entry): void {
    this.byEtag.set(entry.etag, entry);
    const list = this.byName.get(entry.name);
    if (list) list.push(entry);
    else this.byName.set(entry.name, [entry]);
    this.expiry.schedule(entry, entry.expiresAt);
  }

  private delete(entry: Entry): void {
    this.byEtag.delete(entry.etag);
    this.expiry.cancel(entry);
    const remaining = (this.byName.get(entry.name) ?? []).filter((other) => other !== entry);
    if (remaining.length > 0) this.byName.set(entry.name, remaining);
    else this.byName.delete(entry.name);
  }
}
