import { parseNameAddr } from '../sip/headers.js';
import { parseUri } from '../sip/uri.js';
import type { OutgoingRequest, TransactionResult } from '../sip/client-transaction.js';
import { PRODUCT, type SipStack } from '../sip/stack.js';
import { viaHeader, type Target } from '../sip/transport.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import { newBranch } from '../util/random.js';
import { BODY_COUNTER } from './event-package.js';
import { expiresAt, GONE, NEVER_SENT, watcherUri, type DeliveryTimer, type Subscription } from './subscription.js';
import type { SubscriptionJournal } from './subscription-journal.js';
import { classifyFailure, retryDelay, type DeliveryPolicy } from './delivery-policy.js';
import { TimerQueue } from '../util/timer-queue.js';
import { msSinceWrapped, EXPIRY_CLOCK, wrappedNowMs } from '../util/clock.js';

const EMPTY = Buffer.alloc(0);

/** One body variant; watchers that would get the same body share it (see Notifier.body). */
export interface BodyVariant {
  readonly contentType: string;
  /** The state keys the body depends on: it is built again when one of them changed after `builtAt`. */
  readonly keys: readonly string[];
  /** The change generation it was built at; NEVER_BUILT before the first build. */
  builtAt: number;
  /**
   * The body's bytes, in one piece; for a counted package, the pieces between its counters (a resource list of
   * dialog-info parts has one in the RLMI document and one in each part).
   */
  pieces: Buffer[];
  /**
   * Partial-state bodies (RFC 4662 §5.2) by the generation the watcher's last NOTIFY was built at: watchers that
   * last heard the same change get the same bytes. Valid while none of `keys` changed after `partialsAt`.
   */
  readonly partials: Map<number, Buffer[]>;
  partialsAt: number;
}

const NEVER_BUILT = -1;

export interface NotifierOptions {
  stack: SipStack;
  journal: SubscriptionJournal;
  policy: DeliveryPolicy;
  log: Logger;
  /** Called when the watcher is gone (481, too many failures): the subscription must be dropped. */
  onGone: (subscription: Subscription, why: string) => void;
}

/**
 * Sends NOTIFYs (RFC 6665 §4.2.2, RFC 3856 §6.7) under one rule: at most one NOTIFY in flight per subscription, and
 * at most `maxRate` per second. Changes that arrive meanwhile only mark the subscription pending; the next NOTIFY
 * carries the newest state, so a slow watcher sees fewer NOTIFYs but never a stale body, and CSeqs never cross.
 * Transient failures are retried with back-off; see DeliveryPolicy.
 */
export class Notifier {
  /** Body variants by event package and the package's variant key; each is rebuilt only when its state changes. */
  private readonly variants = new Map<string, BodyVariant>();
  /** Counts state changes; each state key remembers the count of its last change. */
  private generation = 0;
  private readonly keyChangedAt = new Map<string, number>();
  private readonly delayed: TimerQueue<DeliveryTimer>;
  private readonly minIntervalMs: number;
  private stopped = false;
  /** NOTIFY transactions open right now. */
  inFlight = 0;
  /** Called whenever a NOTIFY transaction ends (the fan-out uses it to keep a window of open transactions). */
  onSettled: () => void = () => undefined;

  private readonly stack: SipStack;
  private readonly journal: SubscriptionJournal;
  private readonly policy: DeliveryPolicy;
  private readonly log: Logger;
  private readonly onGone: NotifierOptions['onGone'];
  /** A flood of dead Contacts fails thousands of NOTIFYs: one line per kind and interval, with a count. */
  private readonly summary: LogSummary;

  constructor(options: NotifierOptions) {
    ({ stack: this.stack, journal: this.journal, policy: this.policy, log: this.log, onGone: this.onGone } = options);
    this.summary = new LogSummary(this.log);
    this.minIntervalMs = 1000 / this.policy.maxRate;
    this.delayed = new TimerQueue((timer) => {
      if (timer.subscription.pending) this.notify(timer.subscription, true);
    });
  }

  /** Sends the current state now, or as soon as the in-flight NOTIFY, rate limit or retry delay allows. */
  notify(subscription: Subscription, due = false): void {
    if (subscription.terminated === GONE) return;
    subscription.pending = true;
    if (this.stopped || subscription.inFlight || this.isDelayed(subscription)) return;
    // A package that batches (RFC 4662 lists) holds a change for its interval, gathering the ones that follow; the
    // first NOTIFY and the final one are never held.
    const batchMs = due || subscription.terminated || subscription.lastSentAt === NEVER_SENT ? 0 : subscription.eventPackage.batchMs?.(subscription) ?? 0;
    if (batchMs > 0) {
      this.delay(subscription, Date.now() + batchMs);
      return;
    }
    if (subscription.lastSentAt !== NEVER_SENT) {
      const wait = this.minIntervalMs - msSinceWrapped(subscription.lastSentAt);
      if (wait > 0) {
        this.delay(subscription, Date.now() + wait);
        return;
      }
    }
    subscription.pending = false;
    subscription.lastSentAt = wrappedNowMs();
    this.inFlight++;
    subscription.inFlight = this.stack.sendRequest(this.build(subscription), (result) => this.delivered(subscription, result));
  }

  /**
   * A state change reached this watcher (the fan-out): a NOTIFY, unless the last one built for it — sent or in
   * flight — already carries every change of its keys (the change was queued before that NOTIFY was built).
   */
  notifyChange(subscription: Subscription): void {
    const { variant } = subscription;
    if (subscription.builtAt !== NEVER_SENT && variant && !this.changedSince(variant.keys, subscription.builtAt)) return;
    this.notify(subscription);
  }

  /**
   * The watcher must get full state next (a refresh, a changed resource): its next NOTIFY is built as if it were the
   * first, then sent as soon as delivery allows.
   */
  resync(subscription: Subscription): void {
    subscription.builtAt = NEVER_SENT;
    this.notify(subscription);
  }

  /** A state key changed: the bodies that depend on it are built again when next needed. */
  stateChanged(key: string): void {
    this.keyChangedAt.set(key, ++this.generation);
  }

  /** No NOTIFY leaves after this (the journal then records the last CSeq sent; see SubscriptionJournal.settle). */
  stop(): void {
    this.stopped = true;
    this.delayed.stop();
  }

  private delay(subscription: Subscription, at: number): void {
    subscription.deliveryTimer ??= { subscription, dueAt: 0, heapIndex: -1 };
    this.delayed.schedule(subscription.deliveryTimer, at);
  }

  private isDelayed(subscription: Subscription): boolean {
    return subscription.deliveryTimer !== undefined && this.delayed.isScheduled(subscription.deliveryTimer);
  }

  private delivered(subscription: Subscription, result: TransactionResult): void {
    subscription.inFlight = undefined;
    this.inFlight--;
    this.onSettled();
    // Dropped meanwhile (its connection closed): nothing to retry.
    if (subscription.terminated === GONE) return;
    if (result.response) subscription.confirmed = true;
    else if (result.status === 408 && !subscription.confirmed) {
      // RFC 6665 §4.2.2: the first NOTIFY ran into Timer F unanswered. The Contact reaches nobody (or a victim of
      // forged SUBSCRIBEs): the subscription ends now instead of being retried for minutes.
      this.summary.note('info', 'subscriptions dropped: first NOTIFY unanswered', () =>
        `notify: dropping subscription of ${watcherUri(subscription)} to ${subscription.presentity}: its first NOTIFY got no response (Timer F)`);
      this.abandon(subscription, 'first NOTIFY unanswered (Timer F)');
      return;
    }
    if (result.status >= 200 && result.status < 300) {
      subscription.failures = 0;
      if (subscription.pending) this.notify(subscription);
      return;
    }
    // A NOTIFY the watcher did not accept left it not knowing that state: the next one carries full state.
    subscription.builtAt = NEVER_SENT;
    const why = result.response ? `${result.status} ${result.response.reason}` : result.status === 408 ? 'no response (timeout)' : 'transport failure';
    const kind = classifyFailure(result.status);
    if (kind === 'transaction-only') {
      // RFC 3261 §14.1 (491): the watcher was busy with another request; send the state again shortly.
      subscription.pending = true;
      this.delay(subscription, Date.now() + this.policy.retryDelayMs);
      return;
    }
    if (kind === 'transient' && ++subscription.failures < this.policy.maxFailures) {
      const retryAfter = parseRetryAfter(result.response?.get('retry-after'));
      const wait = retryDelay(this.policy, subscription.failures, retryAfter);
      this.summary.note('info', failureKind(result), () =>
        `notify: ${watcherUri(subscription)} (${subscription.presentity}): ${why}; retry ${subscription.failures} in ${wait} ms`);
      // The retry carries the newest state in a new transaction with a new CSeq.
      subscription.pending = true;
      this.delay(subscription, Date.now() + wait);
      return;
    }
    const detail = kind === 'transient' ? `${why} (${subscription.failures} failures in a row)` : why;
    if (!subscription.terminated) {
      this.summary.note('info', 'subscriptions dropped after failed NOTIFYs', () =>
        `notify: dropping subscription of ${watcherUri(subscription)} to ${subscription.presentity}: ${detail}`);
    }
    this.abandon(subscription, detail);
  }

  private abandon(subscription: Subscription, why: string): void {
    subscription.pending = false;
    if (subscription.deliveryTimer) this.delayed.cancel(subscription.deliveryTimer);
    this.onGone(subscription, why);
  }

  /**
   * The body for the subscription's variant, built once per state change and shared by every watcher of that
   * variant: a fan-out builds one body, not one per watcher. A counted package's body is split at its counters, so
   * each watcher's NOTIFY only puts its own number between the shared pieces.
   */
  private body(subscription: Subscription): Buffer {
    const variant = (subscription.variant ??= this.variantOf(subscription));
    const pieces = this.partialPieces(subscription, variant) ?? this.fullPieces(subscription, variant);
    if (pieces.length === 1) return pieces[0]!;
    const counter = Buffer.from(String(subscription.bodyVersion++), 'latin1');
    const parts: Buffer[] = [pieces[0]!];
    for (let i = 1; i < pieces.length; i++) parts.push(counter, pieces[i]!);
    return Buffer.concat(parts);
  }

  private fullPieces(subscription: Subscription, variant: BodyVariant): Buffer[] {
    if (variant.builtAt === NEVER_BUILT || this.changedSince(variant.keys, variant.builtAt)) {
      variant.pieces = this.encode(subscription, subscription.eventPackage.render(subscription));
      variant.builtAt = this.generation;
    }
    return variant.pieces;
  }

  /**
   * RFC 4662 §5.2: after a NOTIFY the watcher accepted, a package that renders changes sends only what changed since
   * that NOTIFY was built. The first NOTIFY, the final one and the one after a failure or resync carry full state.
   */
  private partialPieces(subscription: Subscription, variant: BodyVariant): Buffer[] | undefined {
    const since = subscription.builtAt;
    const { eventPackage } = subscription;
    if (!eventPackage.renderChanges || since === NEVER_SENT || subscription.terminated) return undefined;
    if (variant.partialsAt === NEVER_BUILT || this.changedSince(variant.keys, variant.partialsAt)) {
      variant.partials.clear();
      variant.partialsAt = this.generation;
    }
    let pieces = variant.partials.get(since);
    if (!pieces) {
      const text = eventPackage.renderChanges(subscription, (key) => (this.keyChangedAt.get(key) ?? NEVER_BUILT) > since);
      if (text === undefined) return undefined;
      pieces = this.encode(subscription, text);
      variant.partials.set(since, pieces);
    }
    return pieces;
  }

  /** Encoded once per state change: every NOTIFY of the variant copies these bytes, split at a counted body's counters. */
  private encode(subscription: Subscription, text: string): Buffer[] {
    const pieces = subscription.eventPackage.counted ? text.split(BODY_COUNTER) : [text];
    return pieces.map((piece) => Buffer.from(piece, 'utf8'));
  }

  /** One of `keys` changed after generation `at`. */
  private changedSince(keys: readonly string[], at: number): boolean {
    for (const key of keys) if ((this.keyChangedAt.get(key) ?? NEVER_BUILT) > at) return true;
    return false;
  }

  private variantOf(subscription: Subscription): BodyVariant {
    const eventPackage = subscription.eventPackage;
    const key = `${eventPackage.event}\n${eventPackage.variantKey(subscription)}`;
    let variant = this.variants.get(key);
    if (!variant) {
      const keys = eventPackage.stateKeys(subscription.hint);
      variant = { contentType: subscription.format.contentType, keys, builtAt: NEVER_BUILT, pieces: [EMPTY], partials: new Map(), partialsAt: NEVER_BUILT };
      this.variants.set(key, variant);
    }
    return variant;
  }

  private build(subscription: Subscription): OutgoingRequest {
    const branch = newBranch();
    subscription.localCseq++;
    this.journal.reserveCseq(subscription);
    const body = this.body(subscription);
    subscription.builtAt = this.generation;
    const { contentType } = subscription.variant!;
    const state = subscription.terminated
      ? `terminated;reason=${subscription.terminated}`
      : `active;expires=${Math.max(0, Math.floor(EXPIRY_CLOCK.msUntil(expiresAt(subscription)) / 1000))}`;
    let requestUri = subscription.remoteTarget;
    let routes = '';
    if (subscription.routeSet.length > 0) {
      const routing = route(subscription);
      requestUri = routing.requestUri;
      for (const hop of routing.routes) routes += `Route: ${hop}\r\n`;
    }
    const { eventPackage } = subscription;
    const name = eventPackage.eventToken?.(subscription) ?? eventPackage.event;
    const event = subscription.eventId === undefined ? name : `${name};id=${subscription.eventId}`;
    const { dialogHeaders } = eventPackage;
    let extra = '';
    if (dialogHeaders) for (const [header, value] of dialogHeaders) extra += `${header}: ${value}\r\n`;
    const head =
      `NOTIFY ${requestUri} SIP/2.0\r\n` +
      viaHeader(subscription.flow, subscription.sentBy, branch) +
      'Max-Forwards: 70\r\n' +
      routes +
      `From: ${subscription.localIdentity};tag=${subscription.localTag}\r\n` +
      `To: ${subscription.remoteIdentity}\r\n` +
      `Call-ID: ${subscription.callId}\r\n` +
      `CSeq: ${subscription.localCseq} NOTIFY\r\n` +
      `Contact: <${subscription.localContact}>\r\n` +
      `Event: ${event}\r\n` +
      `Subscription-State: ${state}\r\n` +
      extra +
      `User-Agent: ${PRODUCT}\r\n` +
      `Content-Type: ${contentType}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`;
    return { branch, method: 'NOTIFY', head, body, flow: subscription.flow, fallback: fallbackTarget(subscription) };
  }
}

/**
 * RFC 3261 §12.2.1.1: with no route set or a loose-routing first hop the Request-URI is the remote target and the
 * route set becomes Route headers; a strict router (no `lr`) takes the Request-URI and the target goes last.
 */
function route(subscription: Subscription): { requestUri: string; routes: string[] } {
  const [first, ...rest] = subscription.routeSet;
  if (first === undefined) return { requestUri: subscription.remoteTarget, routes: [] };
  const firstUri = parseNameAddr(first)?.uri;
  const strict = firstUri !== undefined && parseUri(firstUri)?.params['lr'] === undefined;
  if (!strict) return { requestUri: subscription.remoteTarget, routes: subscription.routeSet };
  return { requestUri: firstUri!.replace(/\?.*$/, ''), routes: [...rest, `<${subscription.remoteTarget}>`] };
}

/**
 * When the watcher's connection is gone, connect to its first route or its Contact (RFC 3263 without DNS) — on
 * transports that dial out only: a WebSocket Contact (`*.invalid`) is never resolved.
 */
/**
 * Where to open a new connection to the watcher: the port of its first route or Contact, but always on the address
 * the subscription came from — a Contact naming another host (or a server's AMI port) must not make us connect there.
 */
function fallbackTarget(subscription: Subscription): Target | undefined {
  const kind = subscription.flow.kind;
  if (!kind.reliable || !kind.dialsOut) return undefined;
  const hop = subscription.routeSet[0];
  const uriText = hop !== undefined ? parseNameAddr(hop)?.uri : subscription.remoteTarget;
  const uri = uriText === undefined ? undefined : parseUri(uriText);
  if (!uri) return undefined;
  return { host: subscription.flow.remoteHost, port: uri.port ?? (uri.scheme === 'sips' ? 5061 : kind.defaultPort) };
}

/** RFC 3261 §20.33: "Retry-After: 120 (comment);duration=…" — the seconds, or undefined. */
function parseRetryAfter(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^\s*(\d+)/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** How a failed NOTIFY is counted in the log summaries. */
function failureKind(result: TransactionResult): string {
  if (result.response) return `NOTIFYs answered ${result.status}`;
  return result.status === 408 ? 'NOTIFY timeouts' : 'NOTIFY transport failures';
}
