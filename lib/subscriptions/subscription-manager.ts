import type { Dialplan, Hint } from '../presence/hints.js';
import { pinFlow, unpinFlow, type Connection, type Flow } from '../sip/transport.js';
import type { Logger } from '../util/log.js';
import { TimerQueue } from '../util/timer-queue.js';
import { EXPIRY_CLOCK } from '../util/clock.js';
import { newTag } from '../util/random.js';
import type { EventPackage, EventPackages } from './event-package.js';
import type { Notifier } from './notifier.js';
import type { PersistedSubscription, SubscriptionJournal } from './subscription-journal.js';
import { dialogBytes, expiresAt, GONE, remoteTag, resourceKey, type Subscription } from './subscription.js';
import { KeyedCounter } from '../limits/counter.js';
import type { Limits } from '../limits/limits.js';
import { REFUSALS, type Refusal } from '../limits/refusals.js';
import { LogSummary } from '../util/log-summary.js';

export type SubscriptionCaps = Pick<Limits, 'maxSubscriptions' | 'maxSubscriptionsPerSource' | 'maxSubscriptionsPerPresentity' | 'maxDialogBytes'>;

const NO_CAPS: SubscriptionCaps = {
  maxSubscriptions: Infinity, maxSubscriptionsPerSource: Infinity, maxSubscriptionsPerPresentity: Infinity, maxDialogBytes: Infinity,
};

/** A stored record this much larger than its dialog state is not read at all (JSON escapes at most sextuple a character). */
function maxRecordBytes(maxDialogBytes: number): number {
  return 6 * maxDialogBytes + 8192;
}

/** The source address a subscription counts against: where its SUBSCRIBE came from. */
function sourceOf(subscription: Subscription): string {
  return subscription.flow.remoteHost;
}

function presentityOf(subscription: Subscription): string {
  return resourceKey(subscription.exten, subscription.context);
}

/**
 * Fan-out pacing. Per event-loop turn at most FAN_OUT_CHUNK NOTIFYs leave — about as many answers as one poll reads
 * from a socket (libuv reads 32 datagrams per turn) — and at most FAN_OUT_WINDOW NOTIFY transactions are open at
 * once, so the answers never overflow the socket's receive buffer and a SUBSCRIBE arriving meanwhile is answered
 * within a turn.
 */
const FAN_OUT_CHUNK = 32;
const FAN_OUT_WINDOW = 1024;

/**
 * All live subscriptions: indexed by dialog (for in-dialog SUBSCRIBEs) and by state key (for fan-out on a state
 * change: 'CustomPresence:2000', 'Custom:2000', 'PJSIP/2000' find exactly the watchers whose bodies depend on them),
 * with one timer queue for every expiry (RFC 6665 §4.2.2: an unrefreshed subscription ends with
 * `terminated;reason=timeout`).
 */
export class SubscriptionManager {
  /** By local tag: ours, unique among live subscriptions (see newLocalTag), so no separate dialog-id string is kept. */
  private readonly byDialog = new Map<string, Subscription>();
  /** State key (what the subscription's package says its resource depends on) → its watchers. */
  private readonly byStateKey = new Map<string, Set<Subscription>>();
  /** Subscriptions reachable only through their connection (transports that never dial out), by connection. */
  private readonly byConnection = new Map<Connection, Set<Subscription>>();
  private readonly expiry: TimerQueue<Subscription>;
  private notifier: Notifier | undefined;
  /** Watchers still to be told of a change; drained in chunks so a large fan-out never blocks the event loop. */
  private fanOut: Subscription[] = [];
  private fanOutHead = 0;
  private draining = false;
  /** The drain is waiting for open NOTIFY transactions to finish. */
  private awaitingWindow = false;
  /** Live subscriptions per source address and per presentity, for the caps. */
  private readonly perSource = new KeyedCounter();
  private readonly perPresentity = new KeyedCounter();
  private readonly summary: LogSummary;
  /** performance.now() when the current fan-out began. */
  private fanOutStartedAt = 0;
  /** Hears each fan-out's duration, from the change to the last of its NOTIFYs handed to the notifier (metrics). */
  onFanOutDone: ((seconds: number, watchers: number) => void) | undefined;

  constructor(
    private readonly journal: SubscriptionJournal,
    private readonly packages: EventPackages,
    private readonly log: Logger,
    private readonly caps: SubscriptionCaps = NO_CAPS,
  ) {
    this.summary = new LogSummary(log);
    this.expiry = new TimerQueue((subscription) => this.terminate(subscription, 'timeout'), EXPIRY_CLOCK);
  }

  /** Wired after construction: the notifier reports gone watchers back here. */
  attach(notifier: Notifier): void {
    this.notifier = notifier;
    notifier.onSettled = () => {
      if (!this.awaitingWindow || notifier.inFlight >= FAN_OUT_WINDOW / 2) return;
      this.awaitingWindow = false;
      setImmediate(() => this.drainFanOut());
    };
  }

  get size(): number {
    return this.byDialog.size;
  }

  all(): IterableIterator<Subscription> {
    return this.byDialog.values();
  }

  /** The live subscription with this local tag (its ID in listings), if any. */
  byId(localTag: string): Subscription | undefined {
    return this.byDialog.get(localTag);
  }

  /** RFC 3261 §12.2.2: the dialog with this Call-ID, local tag (the request's To tag) and remote tag (its From tag). */
  find(callId: string, localTag: string, remoteTagOfRequest: string | undefined): Subscription | undefined {
    const subscription = this.byDialog.get(localTag);
    if (!subscription || subscription.callId !== callId || remoteTag(subscription) !== remoteTagOfRequest) return undefined;
    return subscription;
  }

  /** A local tag no live subscription has (RFC 3261 §19.3: random; checked, since it alone keys the dialog). */
  newLocalTag(): string {
    let tag = newTag();
    while (this.byDialog.has(tag)) tag = newTag();
    return tag;
  }

  /** The watcher now reaches us another way (RFC 3261 §12.2.2 target refresh, NAT rebinding): its pin and source count move along. */
  moveFlow(subscription: Subscription, flow: Flow): void {
    if (flow === subscription.flow) return;
    const live = this.byDialog.get(subscription.localTag) === subscription;
    if (live) {
      this.release(subscription);
      this.perSource.remove(sourceOf(subscription));
    }
    subscription.flow = flow;
    if (live) {
      this.hold(subscription);
      // The subscription now counts against its new source address.
      this.perSource.add(sourceOf(subscription));
    }
  }

  /** Watchers per resource ('exten@context'), for listings. */
  watcherCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const subscription of this.byDialog.values()) {
      const key = resourceKey(subscription.hint.exten, subscription.hint.context);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Why a new subscription from `source` to `presentity` ('exten@context') may not be kept, or undefined; a refusal is
   * logged once per episode.
   */
  refusal(source: string, presentity: string): Refusal | undefined {
    const unstored = this.storeRefusal();
    if (unstored) return unstored;
    const refusal = this.capReached(source, presentity);
    if (refusal) {
      this.summary.note('warn', `SUBSCRIBEs refused: ${refusal.reason}`, () =>
        `subscriptions: refusing new ones (${refusal.reason}; ${this.byDialog.size} live, latest from ${source} to ${presentity})`);
    }
    return refusal;
  }

  /** A SUBSCRIBE that would change what is stored while the store refuses writes: 503, not a 200 that may be lost. */
  storeRefusal(): Refusal | undefined {
    return this.journal.durable ? undefined : REFUSALS.storeUnavailable;
  }

  private capReached(source: string, presentity: string): Refusal | undefined {
    if (this.byDialog.size >= this.caps.maxSubscriptions) return REFUSALS.subscriptionsFull;
    if (this.perSource.count(source) >= this.caps.maxSubscriptionsPerSource) return REFUSALS.subscriptionsPerSource;
    if (this.perPresentity.count(presentity) >= this.caps.maxSubscriptionsPerPresentity) return REFUSALS.subscriptionsPerPresentity;
    return undefined;
  }

  /** Adds a new subscription and sends its first NOTIFY (RFC 6665 §4.2.1.2: immediately after the 200). */
  add(subscription: Subscription): void {
    this.insert(subscription);
    this.journal.saved(subscription);
    this.notifier!.notify(subscription);
  }

  /** A refresh: new expiry, then a full-state NOTIFY (RFC 6665 §4.2.1.2 allows it; watchers resync on it). */
  refresh(subscription: Subscription, expiresAt: number): void {
    this.expiry.schedule(subscription, expiresAt);
    this.journal.saved(subscription);
    this.notifier!.resync(subscription);
  }

  /**
   * Ends the subscriptions another node owned once it stopped renewing its lease: from the dialog state in the store,
   * each watcher gets `terminated;reason=deactivated` (RFC 6665 §4.1.3: subscribe again at once, which reaches a live
   * node) and the record is deleted. Returns how many watchers were told.
   */
  async adopt(
    owner: string,
    dialplan: Dialplan,
    create: (persisted: PersistedSubscription, eventPackage: EventPackage, hint: Hint | undefined) => Subscription,
  ): Promise<number> {
    let told = 0;
    for await (const { id, persisted } of this.journal.load(Date.now(), maxRecordBytes(this.caps.maxDialogBytes), owner)) {
      this.journal.discard(id);
      const eventPackage = this.packages.forResource(persisted.event, persisted.exten);
      if (!eventPackage) continue;
      const subscription = create(persisted, eventPackage, eventPackage.resolve(dialplan, persisted.exten, persisted.context));
      subscription.terminated = 'deactivated';
      this.notifier!.notify(subscription);
      // Let SIP traffic and NOTIFY answers through between batches.
      if (++told % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return told;
  }

  /** Ends a subscription with a final NOTIFY carrying `reason` (RFC 6665 §4.2.2). */
  terminate(subscription: Subscription, reason: string): void {
    if (subscription.terminated) return;
    this.remove(subscription);
    subscription.terminated = reason;
    this.notifier!.notify(subscription);
  }

  /** Drops a subscription whose watcher is gone, without a NOTIFY. */
  drop(subscription: Subscription): void {
    this.remove(subscription);
    subscription.terminated ??= GONE;
  }

  /**
   * A connection closed. Subscriptions reachable only through it (WebSocket: no Contact to dial) end at once, with
   * no NOTIFY; the others wait for their next NOTIFY, which opens a new connection.
   */
  connectionClosed(connection: Connection): void {
    const bound = this.byConnection.get(connection);
    if (!bound) return;
    this.byConnection.delete(connection);
    this.log.info(`subscriptions: connection ${connection.id} closed, ending its ${bound.size} subscription(s)`);
    for (const subscription of bound) this.drop(subscription);
  }

  /**
   * After a dialplan reload: every subscription resolves again; one whose resource is gone ends with
   * `reason=noresource`, one whose hint changed is re-indexed and told the new state.
   */
  reresolve(dialplan: Dialplan): void {
    for (const subscription of [...this.byDialog.values()]) {
      const hint = subscription.eventPackage.resolve(dialplan, subscription.exten, subscription.context);
      if (!hint) {
        this.terminate(subscription, 'noresource');
        continue;
      }
      const before = subscription.hint;
      if (hint.text === before.text && hint.exten === before.exten && hint.context === before.context) continue;
      this.unindex(subscription);
      subscription.hint = hint;
      subscription.variant = undefined;
      this.index(subscription);
      this.notifier!.resync(subscription);
    }
  }

  /**
   * After a restart: every persisted, unexpired subscription comes back with its dialog and a CSeq above any sent
   * before, and its watcher gets a NOTIFY with the current state. One whose resource is gone ends with noresource.
   */
  async restore(
    dialplan: Dialplan,
    create: (persisted: PersistedSubscription, eventPackage: EventPackage, hint: Hint | undefined) => Subscription,
  ): Promise<number> {
    const now = Date.now();
    const restored: Subscription[] = [];
    const overCaps = new Map<string, number>();
    let unknownEvents = 0;
    // Latest expiry first: when the store holds more than the caps allow, the least recently refreshed are dropped.
    for await (const { id, persisted } of this.journal.load(now, maxRecordBytes(this.caps.maxDialogBytes))) {
      // A record rewritten under its new id during the restore (see below) may be read again.
      if (persisted.expiresAt <= now || this.byDialog.has(persisted.localTag)) continue;
      const eventPackage = this.packages.forResource(persisted.event, persisted.exten);
      if (!eventPackage) {
        unknownEvents++;
        this.journal.discard(id);
        continue;
      }
      const hint = eventPackage.resolve(dialplan, persisted.exten, persisted.context);
      const subscription = create(persisted, eventPackage, hint);
      const refusal = dialogBytes(subscription) > this.caps.maxDialogBytes
        ? REFUSALS.dialogTooLarge(this.caps.maxDialogBytes)
        : this.capReached(sourceOf(subscription), presentityOf(subscription));
      if (refusal) {
        overCaps.set(refusal.reason, (overCaps.get(refusal.reason) ?? 0) + 1);
        this.journal.discard(id);
        continue;
      }
      // Records written before dialogs were keyed by local tag have another id: rewritten under the new one below.
      if (id !== subscription.localTag) this.journal.discard(id);
      if (!hint) {
        this.terminate(subscription, 'noresource');
        this.journal.removed(subscription);
        continue;
      }
      this.insert(subscription);
      this.journal.saved(subscription);
      restored.push(subscription);
    }
    if (unknownEvents > 0) this.log.warn(`store: dropped ${unknownEvents} stored subscription(s) to event packages this server does not have`);
    for (const [reason, count] of overCaps) {
      this.log.warn(`store: dropped ${count} stored subscription(s) over the limits (${reason}); the least recently refreshed go first`);
    }
    // Serving starts now; each watcher's NOTIFY waits until its raised CSeq ceiling is on disk, then the NOTIFYs go
    // out through the paced fan-out queue.
    void this.journal.flushAll().then(() => {
      for (const subscription of restored) if (!subscription.terminated) this.enqueue(subscription);
      this.startDraining();
    });
    return restored.length;
  }

  /** Graceful shutdown: stop timers and NOTIFYs and write what is pending; subscriptions are not terminated. */
  async stop(): Promise<void> {
    this.expiry.stop();
    this.summary.stop();
    this.notifier?.stop();
    // A counted body (dialog-info, RLMI) continues its version by one after a clean restart only if the ceiling is
    // written down to the CSeq in use. A CSeq may jump, so the others (presence, most of them) are left as they are:
    // settling 100,000 of them took seconds of every stop.
    for (const subscription of this.byDialog.values()) if (subscription.eventPackage.counted) this.journal.settle(subscription);
    await this.journal.flushAll();
    this.journal.stop();
  }

  /** A state key changed (durably): every subscription whose body depends on it gets a NOTIFY, paced. */
  stateChanged(key: string): void {
    this.notifier!.stateChanged(key);
    const watchers = this.byStateKey.get(key);
    if (!watchers) return;
    this.log.debug(`state: ${key} changed, notifying ${watchers.size} watcher(s)`);
    for (const subscription of watchers) this.enqueue(subscription);
    this.startDraining();
  }

  private enqueue(subscription: Subscription): void {
    if (subscription.queued) return;
    subscription.queued = true;
    this.fanOut.push(subscription);
  }

  private startDraining(): void {
    if (this.draining || this.fanOut.length === 0) return;
    this.draining = true;
    this.fanOutStartedAt = performance.now();
    setImmediate(() => this.drainFanOut());
  }

  /** Notifies up to FAN_OUT_CHUNK queued watchers, then yields to I/O (new SUBSCRIBEs, NOTIFY responses). */
  private drainFanOut(): void {
    const notifier = this.notifier!;
    const end = Math.min(this.fanOut.length, this.fanOutHead + FAN_OUT_CHUNK);
    for (; this.fanOutHead < end && notifier.inFlight < FAN_OUT_WINDOW; this.fanOutHead++) {
      const subscription = this.fanOut[this.fanOutHead]!;
      subscription.queued = false;
      if (!subscription.terminated) notifier.notifyChange(subscription);
    }
    if (this.fanOutHead < this.fanOut.length) {
      if (notifier.inFlight >= FAN_OUT_WINDOW) this.awaitingWindow = true;
      else setImmediate(() => this.drainFanOut());
      return;
    }
    this.onFanOutDone?.((performance.now() - this.fanOutStartedAt) / 1000, this.fanOut.length);
    this.fanOut = [];
    this.fanOutHead = 0;
    this.draining = false;
  }

  private insert(subscription: Subscription): void {
    this.byDialog.set(subscription.localTag, subscription);
    this.hold(subscription);
    this.perSource.add(sourceOf(subscription));
    this.perPresentity.add(presentityOf(subscription));
    this.index(subscription);
    this.expiry.schedule(subscription, expiresAt(subscription));
  }

  private remove(subscription: Subscription): void {
    if (this.byDialog.get(subscription.localTag) !== subscription) return;
    this.byDialog.delete(subscription.localTag);
    this.release(subscription);
    this.perSource.remove(sourceOf(subscription));
    this.perPresentity.remove(presentityOf(subscription));
    this.journal.removed(subscription);
    this.unindex(subscription);
    this.expiry.cancel(subscription);
  }

  /** A live subscription keeps its connection open (no idle close) for its NOTIFYs, and ends with a bound one. */
  private hold(subscription: Subscription): void {
    const flow = subscription.flow;
    pinFlow(flow);
    if (flow.kind.dialsOut || !flow.connection) return;
    let bound = this.byConnection.get(flow.connection);
    if (!bound) this.byConnection.set(flow.connection, (bound = new Set()));
    bound.add(subscription);
  }

  private release(subscription: Subscription): void {
    const flow = subscription.flow;
    unpinFlow(flow);
    const bound = flow.connection && this.byConnection.get(flow.connection);
    bound?.delete(subscription);
    if (bound?.size === 0) this.byConnection.delete(flow.connection!);
  }

  private index(subscription: Subscription): void {
    for (const key of subscription.eventPackage.stateKeys(subscription.hint)) {
      let watchers = this.byStateKey.get(key);
      if (!watchers) this.byStateKey.set(key, (watchers = new Set()));
      watchers.add(subscription);
    }
  }

  private unindex(subscription: Subscription): void {
    for (const key of subscription.eventPackage.stateKeys(subscription.hint)) {
      const watchers = this.byStateKey.get(key);
      watchers?.delete(subscription);
      if (watchers?.size === 0) this.byStateKey.delete(key);
    }
  }
}
