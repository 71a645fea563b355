import type { Store, SubscriptionRecord } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import type { Hint } from '../presence/hints.js';
import { PRESENCE_EVENT } from '../presence/presence-package.js';
import type { EventPackage } from './event-package.js';
import { epochMsToExpiry, expiryToEpochMs } from '../util/clock.js';
import type { FlowPool } from './flow-pool.js';
import { transportKind, UDP, type ViaTransport } from '../sip/transport.js';
import { createSubscription, expiresAt, type Subscription } from './subscription.js';

/**
 * How many NOTIFY CSeqs are reserved at a time. The store holds a ceiling above every CSeq ever sent; a restored
 * subscription continues from the ceiling, so a restart never reuses a CSeq (phones reject NOTIFYs whose CSeq does
 * not rise). The ceiling moves up half a block ahead of use, leaving ample time for the batched write.
 */
export const CSEQ_BLOCK = 100;

/** Subscription records read from the store at a time on restore. */
const LOAD_PAGE = 1000;

/** A refused batch is written again after 1 s, then after twice as long each time, at most 30 s apart. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Subscription changes written per store transaction. */
const FLUSH_CHUNK = 2000;

interface Batch { upserts: Subscription[]; deletes: string[] }

/** What is persisted of a subscription: the dialog, where to reach the watcher, and what it watches. */
export interface PersistedSubscription {
  callId: string;
  localTag: string;
  localIdentity: string;
  remoteIdentity: string;
  remoteTarget: string;
  routeSet: string[];
  cseqCeiling: number;
  remoteCseq: number;
  eventId: string | undefined;
  /** The Via token of the flow's transport. */
  protocol: ViaTransport;
  remoteHost: string;
  remotePort: number;
  localContact: string;
  sentBy: string;
  userAgent: string;
  presentity: string;
  digium: boolean;
  /** The event package; records written before there were several are presence subscriptions. */
  event: string;
  format: string;
  /**
   * The body counter (dialog-info version) the NOTIFY after `cseqCeiling` carries: counter and CSeq rise together,
   * so a restart that continues the CSeq from the ceiling continues the counter with it.
   */
  version: number;
  exten: string;
  context: string;
  /** Wall-clock milliseconds. */
  expiresAt: number;
}

/**
 * Write-behind persistence of subscriptions: changes are collected and written in one store transaction per flush
 * interval, so the SUBSCRIBE and NOTIFY paths never wait for the disk. A crash can lose at most the last interval's
 * new subscriptions (their watchers get 481 on refresh and subscribe again); it can never make a CSeq go back.
 */
export class SubscriptionJournal {
  private readonly upserts = new Map<string, Subscription>();
  private readonly deletes = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** When the store first refused a batch; undefined while writes succeed. */
  private failedSince: number | undefined;
  private retryMs = 0;
  private readonly summary: LogSummary;

  /** @param node this node's name: its records name it as their owner, and it restores only its own */
  constructor(private readonly store: Store, private readonly log: Logger, private readonly node = '', private readonly flushMs = 50) {
    this.summary = new LogSummary(log);
  }

  /** Records are keyed by the subscription's local tag (unique among live subscriptions). */
  saved(subscription: Subscription): void {
    // Reachable only over its own connection (WebSocket): it cannot outlive the connection, let alone a restart.
    if (!subscription.flow.kind.dialsOut) return;
    this.deletes.delete(subscription.localTag);
    this.upserts.set(subscription.localTag, subscription);
    this.schedule();
  }

  removed(subscription: Subscription): void {
    this.discard(subscription.localTag);
  }

  /** Deletes a record by its id. */
  discard(id: string): void {
    this.upserts.delete(id);
    this.deletes.add(id);
    this.schedule();
  }

  /** Raises the CSeq ceiling when the next CSeq comes within half a block of it. */
  reserveCseq(subscription: Subscription): void {
    if (subscription.localCseq + CSEQ_BLOCK / 2 < subscription.cseqCeiling) return;
    subscription.cseqCeiling = subscription.localCseq + CSEQ_BLOCK;
    if (!subscription.terminated) this.saved(subscription);
  }

  /** False while the store refuses writes (a full disk): new subscriptions are then refused instead of acknowledged. */
  get durable(): boolean {
    return this.failedSince === undefined;
  }

  /**
   * A graceful stop: no NOTIFY follows, so the ceiling comes down to the last CSeq sent and the restart continues
   * CSeq and body counter exactly where they are.
   */
  settle(subscription: Subscription): void {
    subscription.cseqCeiling = subscription.localCseq;
    this.saved(subscription);
  }

  /**
   * Writes what is pending, at most FLUSH_CHUNK changes per transaction so that a large batch (a restart restoring
   * 100,000 subscriptions) never blocks the event loop for long; the rest follows on the next turn. A batch the store
   * refuses is kept and written again later (see failed).
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.upserts.size === 0 && this.deletes.size === 0) return this.writing;
    const batch: Batch = { upserts: [], deletes: [] };
    const records: SubscriptionRecord[] = [];
    for (const [id, subscription] of this.upserts) {
      if (records.length === FLUSH_CHUNK) break;
      records.push(toRecord(subscription, this.node));
      batch.upserts.push(subscription);
      this.upserts.delete(id);
    }
    for (const id of this.deletes) {
      if (batch.deletes.length === FLUSH_CHUNK) break;
      batch.deletes.push(id);
      this.deletes.delete(id);
    }
    // Writes are chained so that an older batch can never land after a newer one.
    this.writing = this.writing
      .then(() => this.store.writeSubscriptions(records, batch.deletes))
      .then(() => this.written(), (error: Error) => this.failed(batch, error));
    if (!this.failing && (this.upserts.size > 0 || this.deletes.size > 0)) this.timer = setTimeout(() => void this.flush(), 0);
    return this.writing;
  }

  /** Writes everything pending (shutdown); stops at the first batch the store refuses. */
  async flushAll(): Promise<void> {
    while ((this.upserts.size > 0 || this.deletes.size > 0) && !this.failing) {
      await this.flush();
      // Let SIP traffic through between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.failing) await this.flush();
    await this.writing;
  }

  /** Stops retrying (shutdown, after flushAll). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.summary.stop();
  }

  private get failing(): boolean {
    return this.failedSince !== undefined;
  }

  /**
   * The store refused a batch (disk full, I/O error): its changes go back into the pending set — unless a newer change
   * of the same subscription is already there — and are written again after a back-off, until the store takes them.
   */
  private failed(batch: Batch, error: Error): void {
    for (const subscription of batch.upserts) {
      const id = subscription.localTag;
      if (!this.upserts.has(id) && !this.deletes.has(id) && !subscription.terminated) this.upserts.set(id, subscription);
    }
    for (const id of batch.deletes) if (!this.upserts.has(id)) this.deletes.add(id);
    this.failedSince ??= Date.now();
    this.retryMs = Math.min(this.retryMs === 0 ? RETRY_FIRST_MS : this.retryMs * 2, RETRY_MAX_MS);
    const pending = this.upserts.size + this.deletes.size;
    this.summary.note('error', 'failed subscription writes', () =>
      `store: writing ${batch.upserts.length + batch.deletes.length} subscription change(s) failed: ${error.message}; ` +
      `keeping ${pending} pending change(s) and retrying, new SUBSCRIBEs are answered 503 meanwhile`);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.retryMs).unref();
  }

  private written(): void {
    if (this.failedSince === undefined) return;
    this.log.warn(`store: subscription writes work again after ${Math.round((Date.now() - this.failedSince) / 1000)} s`);
    this.failedSince = undefined;
    this.retryMs = 0;
    if (this.upserts.size > 0 || this.deletes.size > 0) this.schedule();
  }

  /**
   * Every stored subscription of this node (or of no node: records older than ownership) that is still valid, latest
   * expiry first, read a page at a time so that a store of any size can be restored. A record whose data is not a subscription (unreadable, wrong shape, larger than
   * `maxRecordBytes`) is skipped: one WARN says how many and why.
   */
  async *load(now: number, maxRecordBytes = Infinity, owner = this.node): AsyncGenerator<{ id: string; persisted: PersistedSubscription }> {
    const purged = await this.store.purgeExpiredSubscriptions(now);
    if (purged > 0) this.log.info(`store: dropped ${purged} subscription(s) that expired while stopped`);
    let skipped = 0;
    let firstProblem = '';
    let page = await this.store.loadSubscriptions({ limit: LOAD_PAGE });
    while (page.length > 0) {
      for (const record of page) {
        // Records older than ownership are this node's own; another node's are read only when it is taken over.
        if (record.owner !== owner && !(record.owner === '' && owner === this.node)) continue;
        const problem = record.data.length > maxRecordBytes ? `larger than ${maxRecordBytes} bytes` : undefined;
        const persisted = problem === undefined ? readPersisted(record.data) : problem;
        if (typeof persisted !== 'string') {
          yield { id: record.id, persisted };
          continue;
        }
        if (skipped++ === 0) firstProblem = `${JSON.stringify(record.id.slice(0, 64))}: ${persisted}`;
      }
      page = await this.store.loadSubscriptions({ after: page[page.length - 1], limit: LOAD_PAGE });
    }
    if (skipped > 0) this.log.warn(`store: skipped ${skipped} unreadable subscription record(s), the first ${firstProblem}`);
  }

  private schedule(): void {
    // While failing, the retry timer is the one that writes.
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.flushMs);
  }
}

const STRING_FIELDS = [
  'callId', 'localTag', 'localIdentity', 'remoteIdentity', 'remoteTarget', 'remoteHost', 'localContact', 'sentBy', 'userAgent',
  'presentity', 'format', 'exten', 'context',
] as const;
const COUNT_FIELDS = ['cseqCeiling', 'remoteCseq', 'remotePort', 'expiresAt'] as const;

/** A stored record's data as a subscription, or what is wrong with it: valid JSON of another shape is not one. */
export function readPersisted(data: string): PersistedSubscription | string {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) if (typeof record[field] !== 'string') return `${field} is not a string`;
  for (const field of COUNT_FIELDS) {
    const count = record[field];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return `${field} is not a whole number`;
  }
  if (!Array.isArray(record.routeSet) || !record.routeSet.every((route) => typeof route === 'string')) return 'routeSet is not a list of strings';
  if (record.eventId !== undefined && typeof record.eventId !== 'string') return 'eventId is not a string';
  if (record.protocol !== 'UDP' && record.protocol !== 'TCP') return 'protocol is neither UDP nor TCP';
  if (typeof record.digium !== 'boolean') return 'digium is not true or false';
  // Records written before there were several event packages are presence subscriptions without a body counter.
  record.event ??= PRESENCE_EVENT;
  record.version ??= 0;
  if (typeof record.event !== 'string') return 'event is not a string';
  if (typeof record.version !== 'number' || !Number.isSafeInteger(record.version) || record.version < 0) return 'version is not a whole number';
  return record as unknown as PersistedSubscription;
}

function toRecord(subscription: Subscription, owner: string): SubscriptionRecord {
  const data: PersistedSubscription = {
    callId: subscription.callId,
    localTag: subscription.localTag,
    localIdentity: subscription.localIdentity,
    remoteIdentity: subscription.remoteIdentity,
    remoteTarget: subscription.remoteTarget,
    routeSet: subscription.routeSet,
    cseqCeiling: subscription.cseqCeiling,
    remoteCseq: subscription.remoteCseq,
    eventId: subscription.eventId,
    protocol: subscription.flow.kind.via,
    remoteHost: subscription.flow.remoteHost,
    remotePort: subscription.flow.remotePort,
    localContact: subscription.localContact,
    sentBy: subscription.sentBy,
    userAgent: subscription.userAgent,
    presentity: subscription.presentity,
    digium: subscription.digium,
    event: subscription.eventPackage.event,
    format: subscription.format.contentType,
    version: subscription.bodyVersion + (subscription.cseqCeiling - subscription.localCseq),
    exten: subscription.exten,
    context: subscription.context,
    expiresAt: expiryToEpochMs(expiresAt(subscription)),
  };
  return { id: subscription.localTag, expiresAt: data.expiresAt, data: JSON.stringify(data), owner };
}

/**
 * Rebuilds a subscription from its record. CSeqs continue above the persisted ceiling, and the ceiling moves up a
 * block at once: the caller writes it before the first NOTIFY, so even a crash right after this restart cannot lead
 * to a CSeq being used twice.
 */
export function restoreSubscription(persisted: PersistedSubscription, eventPackage: EventPackage, hint: Hint | undefined, flows: FlowPool): Subscription {
  const { protocol, remoteHost, remotePort, exten, context, cseqCeiling } = persisted;
  // A resource removed while we were down still needs a hint to describe it in the final NOTIFY.
  const resolved: Hint = hint ?? { exten, context, devices: [], text: '', file: '', line: 0 };
  // Field by field, not with an object rest: a restart rebuilds 100,000 of these, and copying "all but" a few
  // properties is V8's slow path (30 times slower here). Records written by earlier versions also carry remoteTag
  // (now read from remoteIdentity): not copied.
  return createSubscription({
    callId: persisted.callId,
    localTag: persisted.localTag,
    localIdentity: persisted.localIdentity,
    remoteIdentity: persisted.remoteIdentity,
    remoteTarget: persisted.remoteTarget,
    routeSet: persisted.routeSet,
    localCseq: cseqCeiling,
    cseqCeiling: cseqCeiling + CSEQ_BLOCK,
    remoteCseq: persisted.remoteCseq,
    eventId: persisted.eventId,
    localContact: persisted.localContact,
    sentBy: persisted.sentBy,
    userAgent: persisted.userAgent,
    presentity: persisted.presentity,
    digium: persisted.digium,
    eventPackage,
    format: eventPackage.bodyTypes.find((type) => type.contentType === persisted.format) ?? eventPackage.bodyTypes[0]!,
    bodyVersion: persisted.version,
    // It was a working dialog before the restart: a NOTIFY lost while the phone reboots is retried, not fatal.
    confirmed: true,
    // The connection did not survive the restart: the first NOTIFY connects to the watcher's Contact.
    flow: flows.shared({ kind: transportKind(protocol) ?? UDP, remoteHost, remotePort, localHost: '', localPort: 0 }),
    exten,
    context,
    hint: resolved,
    expiresAt: epochMsToExpiry(persisted.expiresAt),
  });
}
