import type { Flow } from '../sip/transport.js';
import type { BodyFormat } from '../presence/bodies.js';
import type { Hint } from '../presence/hints.js';
import type { Scheduled } from '../util/timer-queue.js';
import { detach } from '../util/strings.js';
import { parseNameAddr } from '../sip/headers.js';
import type { NonInviteClientTransaction } from '../sip/client-transaction.js';
import type { BodyVariant } from './notifier.js';

/** The resource a subscription watches: the extension it asked for and the hint that resolved it. */
export interface Resource { exten: string; context: string; hint: Hint }

/**
 * One presence subscription: an RFC 6665 dialog (§4.1.2, RFC 3261 §12) plus what delivery needs. The notifier side of
 * the dialog is ours: local tag and CSeq are ours, remote tag, target and route set are the watcher's.
 */
export interface Subscription extends Scheduled {
  /** RFC 3261 §12: Call-ID, local tag and remote tag identify the dialog. */
  readonly id: string;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The SUBSCRIBE's To header (the presentity), sent back as the NOTIFY's From with our tag. */
  readonly localIdentity: string;
  /** The SUBSCRIBE's From header with the watcher's tag, sent back as the NOTIFY's To. */
  readonly remoteIdentity: string;
  /** RFC 3261 §12.1.1: remote target from Contact, route set from Record-Route in order; both refreshed by SUBSCRIBEs. */
  remoteTarget: string;
  routeSet: string[];
  localCseq: number;
  /** Every CSeq sent is below this persisted ceiling (see SubscriptionJournal). */
  cseqCeiling: number;
  remoteCseq: number;
  /** RFC 6665 §8.2.1: the Event header's id parameter, echoed in every NOTIFY. */
  readonly eventId: string | undefined;
  /** Arrival flow: NOTIFYs go back where the SUBSCRIBE came from (NAT) and over the same TCP connection. */
  flow: Flow;
  /** Our Contact URI and Via sent-by for this dialog. */
  readonly localContact: string;
  readonly sentBy: string;
  readonly userAgent: string;
  readonly presentity: string;
  readonly digium: boolean;
  /** The body format negotiated from the SUBSCRIBE's Accept. */
  readonly format: BodyFormat;
  /** The shared body this watcher gets (set by the notifier; cleared when the hint changes). */
  variant: BodyVariant | undefined;
  resource: Resource;
  expiresAt: number;
  /** Delivery: at most one NOTIFY in flight; later changes only set `pending` (RFC 6665 §4.2.2 allows coalescing). */
  inFlight: NonInviteClientTransaction | undefined;
  pending: boolean;
  /** A delayed send (rate limit or retry back-off) is scheduled on this timer; made on first use. */
  deliveryTimer: DeliveryTimer | undefined;
  /** When the last NOTIFY left, for the per-watcher rate limit. */
  lastSentAt: number;
  /** Consecutive NOTIFYs that failed with a transient error; reset by a 2xx. */
  failures: number;
  /** Waiting in the manager's fan-out queue. */
  queued: boolean;
  /** Set once the subscription is ending: the reason goes into the final NOTIFY. */
  terminated: string | undefined;
}

export interface DeliveryTimer extends Scheduled {
  readonly subscription: Subscription;
}

/** The watcher's From URI, for listings and logs (derived: kept once, in remoteIdentity). */
export function watcherUri(subscription: Subscription): string {
  return parseNameAddr(subscription.remoteIdentity)?.uri ?? subscription.remoteIdentity;
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

export function resourceKey(exten: string, context: string): string {
  return `${exten}@${context}`;
}

/** The fields a subscription is created or restored from; delivery state starts empty. */
export type SubscriptionInit = Omit<
  Subscription,
  'id' | 'variant' | 'dueAt' | 'heapIndex' | 'inFlight' | 'pending' | 'deliveryTimer' | 'lastSentAt' | 'failures' | 'queued' | 'terminated'
>;

export function createSubscription(init: SubscriptionInit): Subscription {
  // Every field in one literal: V8 then keeps them all inside the object, with no separate property store
  // (a subscription is the server's most numerous object).
  return {
    // Flattened once: a concatenation kept as a Map key would keep its pieces alive too.
    id: detach(dialogId(init.callId, init.localTag, init.remoteTag)),
    callId: init.callId,
    localTag: init.localTag,
    remoteTag: init.remoteTag,
    localIdentity: init.localIdentity,
    remoteIdentity: init.remoteIdentity,
    remoteTarget: init.remoteTarget,
    routeSet: init.routeSet,
    localCseq: init.localCseq,
    cseqCeiling: init.cseqCeiling,
    remoteCseq: init.remoteCseq,
    eventId: init.eventId,
    flow: init.flow,
    localContact: init.localContact,
    sentBy: init.sentBy,
    userAgent: init.userAgent,
    presentity: init.presentity,
    digium: init.digium,
    format: init.format,
    variant: undefined,
    resource: init.resource,
    expiresAt: init.expiresAt,
    dueAt: 0,
    heapIndex: -1,
    inFlight: undefined,
    pending: false,
    deliveryTimer: undefined,
    lastSentAt: 0,
    failures: 0,
    queued: false,
    terminated: undefined,
  };
}
