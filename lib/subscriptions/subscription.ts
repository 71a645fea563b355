import type { Flow } from '../sip/transport.js';
import type { Hint } from '../presence/hints.js';
import type { Scheduled } from '../util/timer-queue.js';
import { parseNameAddr } from '../sip/headers.js';
import type { NonInviteClientTransaction } from '../sip/client-transaction.js';
import type { BodyVariant } from './notifier.js';
import type { BodyType, EventPackage } from './event-package.js';

/**
 * One subscription to an event package: an RFC 6665 dialog (§4.1.2, RFC 3261 §12) plus what delivery needs. The
 * notifier side of the dialog is ours: local tag and CSeq are ours, remote tag, target and route set are the watcher's.
 */
export interface Subscription extends Scheduled {
  /**
   * RFC 3261 §12: Call-ID, local tag and remote tag identify the dialog. The local tag is ours and unique among live
   * subscriptions, so it alone is the key (see SubscriptionManager.find); the remote tag stays in remoteIdentity.
   */
  readonly callId: string;
  readonly localTag: string;
  /** The SUBSCRIBE's To header (the presentity), sent back as the NOTIFY's From with our tag. */
  readonly localIdentity: string;
  /** The SUBSCRIBE's From header with the watcher's tag (the remote tag), sent back as the NOTIFY's To. */
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
  /**
   * Arrival flow: NOTIFYs go back where the SUBSCRIBE came from (NAT) and over the same connection. Shared by the
   * watcher's subscriptions that came the same way (see FlowPool); a live subscription pins it (see pinFlow), so
   * it changes only through SubscriptionManager.moveFlow.
   */
  flow: Flow;
  /** Our Contact URI and Via sent-by for this dialog. */
  readonly localContact: string;
  readonly sentBy: string;
  readonly userAgent: string;
  readonly presentity: string;
  readonly digium: boolean;
  /** The event package (presence, dialog…): what the NOTIFYs carry and which state changes reach them. */
  readonly eventPackage: EventPackage;
  /** The body type negotiated from the SUBSCRIBE's Accept, one of the package's. */
  readonly format: BodyType;
  /** The per-subscription counter of counted packages (dialog-info `version`) for the next NOTIFY; from 0. */
  bodyVersion: number;
  /** The shared body this watcher gets (set by the notifier; cleared when the hint changes). */
  variant: BodyVariant | undefined;
  /** The resource: the extension asked for, in this context, and the hint it resolved to. */
  readonly exten: string;
  readonly context: string;
  hint: Hint;
  /** The expiry, in EXPIRY_CLOCK units (tenths of a second): the expiry queue's deadline is the only copy of it. */
  dueAt: number;
  /** Delivery: at most one NOTIFY in flight; later changes only set `pending` (RFC 6665 §4.2.2 allows coalescing). */
  inFlight: NonInviteClientTransaction | undefined;
  pending: boolean;
  /** A delayed send (rate limit or retry back-off) is scheduled on this timer; made on first use. */
  deliveryTimer: DeliveryTimer | undefined;
  /** When the last NOTIFY left (wrappedNowMs; NEVER_SENT before the first), for the per-watcher rate limit. */
  lastSentAt: number;
  /** The notifier's change generation when the last NOTIFY was built (NEVER_SENT before): newer changes need one. */
  builtAt: number;
  /** Consecutive NOTIFYs that failed with a transient error; reset by a 2xx. */
  failures: number;
  /**
   * The watcher has answered a NOTIFY of this dialog (any response), or the dialog was restored from the store. Until
   * then a NOTIFY that times out means the Contact reaches nobody: the subscription is dropped (RFC 6665 §4.2.2).
   */
  confirmed: boolean;
  /** Waiting in the manager's fan-out queue. */
  queued: boolean;
  /** Set once the subscription is ending: the reason goes into the final NOTIFY. */
  terminated: string | undefined;
}

export interface DeliveryTimer extends Scheduled {
  readonly subscription: Subscription;
}

export const NEVER_SENT = -1;

/** `terminated` of a subscription dropped without a NOTIFY (the watcher is gone): nothing more is sent to it. */
export const GONE = 'gone';

/** The watcher's From URI, for listings and logs (derived: kept once, in remoteIdentity). */
export function watcherUri(subscription: Subscription): string {
  return parseNameAddr(subscription.remoteIdentity)?.uri ?? subscription.remoteIdentity;
}

/** The watcher's tag, from remoteIdentity (kept once; needed only to match in-dialog requests). */
export function remoteTag(subscription: Subscription): string | undefined {
  return parseNameAddr(subscription.remoteIdentity)?.params['tag'] ?? undefined;
}

/** When the subscription expires, in EXPIRY_CLOCK units (tenths of a second). */
export function expiresAt(subscription: Subscription): number {
  return subscription.dueAt;
}

/**
 * Characters of dialog state the watcher chose and we keep (and store): Call-ID, both identities, the remote target,
 * the route set, the event id, the User-Agent and the extension. Bounded by --max-dialog-bytes.
 */
export function dialogBytes(subscription: Subscription): number {
  let bytes = subscription.callId.length + subscription.localIdentity.length + subscription.remoteIdentity.length +
    subscription.remoteTarget.length + (subscription.eventId?.length ?? 0) + subscription.userAgent.length + subscription.exten.length;
  for (const route of subscription.routeSet) bytes += route.length;
  return bytes;
}

export function resourceKey(exten: string, context: string): string {
  return `${exten}@${context}`;
}

/** The fields a subscription is created or restored from; delivery state starts empty. */
export type SubscriptionInit = Omit<
  Subscription,
  'variant' | 'dueAt' | 'heapIndex' | 'inFlight' | 'pending' | 'deliveryTimer' | 'lastSentAt' | 'builtAt' | 'failures' | 'confirmed' | 'queued' | 'terminated'
> & { expiresAt: number; confirmed?: boolean };

export function createSubscription(init: SubscriptionInit): Subscription {
  // Every field in one literal: V8 then keeps them all inside the object, with no separate property store
  // (a subscription is the server's most numerous object).
  return {
    callId: init.callId,
    localTag: init.localTag,
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
    eventPackage: init.eventPackage,
    format: init.format,
    bodyVersion: init.bodyVersion,
    variant: undefined,
    exten: init.exten,
    context: init.context,
    hint: init.hint,
    dueAt: init.expiresAt,
    heapIndex: -1,
    inFlight: undefined,
    pending: false,
    deliveryTimer: undefined,
    lastSentAt: NEVER_SENT,
    builtAt: NEVER_SENT,
    failures: 0,
    confirmed: init.confirmed ?? false,
    queued: false,
    terminated: undefined,
  };
}
