import type { Store, SubscriptionRecord } from '../store/store.js';
import type { Logger } from '../util/log.js';
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

/** Subscription changes written per store transaction. */
const FLUSH_CHUNK = 2000;

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

  /** @param node this node's name: its records name it as their owner, and it restores only its own */
  constructor(private readonly store: Store, private readonly log: Logger, private readonly node = '', private readonly flushMs = 50) {}

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
   * 100,000 subscriptions) never blocks the event loop for long; the rest follows on the next turn.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.upserts.size === 0 && this.deletes.size === 0) return this.writing;
    const upserts: SubscriptionRecord[] = [];
    for (const [id, subscription] of this.upserts) {
      if (upserts.length === FLUSH_CHUNK) break;
      upserts.push(toRecord(subscription, this.node));
      this.upserts.delete(id);
    }
    const deletes: string[] = [];
    for (const id of this.deletes) {
      if (deletes.length === FLUSH_CHUNK) break;
      deletes.push(id);
      this.deletes.delete(id);
    }
    // Writes are chained so that an older batch can never land after a newer one.
    this.writing = this.writing
      .then(() => this.store.writeSubscriptions(upserts, deletes))
      .catch((error: Error) => this.log.error(`store: writing ${upserts.length + deletes.length} subscription change(s) failed: ${error.message}`));
    if (this.upserts.size > 0 || this.deletes.size > 0) this.timer = setTimeout(() => void this.flush(), 0);
    return this.writing;
  }

  /** Writes everything pending (shutdown). */
  async flushAll(): Promise<void> {
    while (this.upserts.size > 0 || this.deletes.size > 0) {
      await this.flush();
      // Let SIP traffic through between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.writing;
  }

  /**
   * Every stored subscription of this node (or of no node: records older than ownership) that is still valid, latest
   * expiry first, read a page at a time so that a store of any size can be restored. A record whose data is not a subscription (unreadable, wrong shape, larger than
   * `maxRecordBytes`) is skipped: one WARN says how many and why.
   */
  async *load(now: number, maxRecordBytes = Infinity): AsyncGenerator<{ id: string; persisted: PersistedSubscription }> {
    const purged = await this.store.purgeExpiredSubscriptions(now);
    if (purged > 0) this.log.info(`store: dropped ${purged} subscription(s) that expired while stopped`);
    let skipped = 0;
    let firstProblem = '';
    let page = await this.store.loadSubscriptions({ limit: LOAD_PAGE });
    while (page.length > 0) {
      for (const record of page) {
        if (record.owner !== this.node && record.owner !== '') continue;
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
  // Records written by earlier versions also carry remoteTag (now read from remoteIdentity): left out here.
  const { protocol, remoteHost, remotePort, exten, context, cseqCeiling, event: _event, format, version, expiresAt: expiresAtMs, remoteTag: _, ...dialog } =
    persisted as PersistedSubscription & { remoteTag?: string };
  // A resource removed while we were down still needs a hint to describe it in the final NOTIFY.
  const resolved: Hint = hint ?? { exten, context, devices: [], text: '', file: '', line: 0 };
  return createSubscription({
    ...dialog,
    localCseq: cseqCeiling,
    cseqCeiling: cseqCeiling + CSEQ_BLOCK,
    eventPackage,
    format: eventPackage.bodyTypes.find((type) => type.contentType === format) ?? eventPackage.bodyTypes[0]!,
    bodyVersion: version,
    // The connection did not survive the restart: the first NOTIFY connects to the watcher's Contact.
    flow: flows.shared({ kind: transportKind(protocol) ?? UDP, remoteHost, remotePort, localHost: '', localPort: 0 }),
    exten,
    context,
    hint: resolved,
    expiresAt: epochMsToExpiry(expiresAtMs),
  });
}
