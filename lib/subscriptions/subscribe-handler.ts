import { ERRORS, OK, sipAnswer } from '../errors.js';
import type { HintDirectory } from '../presence/hint-directory.js';
import { wantsDigiumTuple, type DigiumMode } from '../presence/pidf.js';
import { parseCSeq, parseEvent, parseNameAddr, splitHeaderValues, uriScheme } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import { authorize, contextFor } from '../sip/pipeline.js';
import { grantExpires, type ExpiryPolicy } from '../sip/expires.js';
import type { IncomingRequest } from '../sip/stack.js';
import { contactUri as ourContactUri, formatHostPort, type Flow } from '../sip/transport.js';
import { parseUri } from '../sip/uri.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import { expiryIn } from '../util/clock.js';
import { detach, InternPool } from '../util/strings.js';
import type { EventPackage, EventPackages } from './event-package.js';
import type { FlowPool } from './flow-pool.js';
import { createSubscription, dialogBytes, resourceKey, type Subscription } from './subscription.js';
import { REFUSALS } from '../limits/refusals.js';
import { CSEQ_BLOCK } from './subscription-journal.js';
import type { SubscriptionManager } from './subscription-manager.js';

const NO_ROUTES: string[] = [];

export interface SubscribeHandlerOptions {
  manager: SubscriptionManager;
  packages: EventPackages;
  flows: FlowPool;
  hints: HintDirectory;
  /** The dialplan context Request-URIs resolve in. */
  context: string;
  expiry: ExpiryPolicy;
  digiumMode: DigiumMode;
  log: Logger;
  /** Largest dialog state one subscription may keep; unbounded when absent. */
  maxDialogBytes?: number;
}

/**
 * The notifier side of RFC 6665 for SUBSCRIBE: finds the event package, validates, resolves the Request-URI with the
 * package, creates, refreshes and ends subscriptions, and answers each request exactly once.
 */
export class SubscribeHandler {
  /** Values many subscriptions share are stored once (see lib/util/strings.ts). */
  private readonly shared = new InternPool();

  private readonly manager: SubscriptionManager;
  private readonly packages: EventPackages;
  private readonly flows: FlowPool;
  private readonly hints: HintDirectory;
  private readonly context: string;
  private readonly expiry: ExpiryPolicy;
  private readonly digiumMode: DigiumMode;
  private readonly log: Logger;
  /** Largest dialog state one subscription may keep (see dialogBytes). */
  private readonly maxDialogBytes: number;
  /** SUBSCRIBEs for unknown extensions come in floods (scanners): one line per interval, with a count. */
  private readonly summary: LogSummary;

  constructor(options: SubscribeHandlerOptions) {
    ({ manager: this.manager, packages: this.packages, flows: this.flows, hints: this.hints, context: this.context, expiry: this.expiry,
      digiumMode: this.digiumMode, log: this.log, maxDialogBytes: this.maxDialogBytes = Infinity } = options);
    this.summary = new LogSummary(this.log);
  }

  readonly handle = (incoming: IncomingRequest): void => {
    const { request, respond } = incoming;
    // RFC 6665 §4.2.1.1 / §8.2.1: an unknown or missing event package gets 489 with the packages we have.
    const event = parseEvent(request.get('event') ?? '');
    const eventPackage = event ? this.packages.get(event.event) : undefined;
    if (!event || !eventPackage) {
      respond(sipAnswer(ERRORS.BAD_EVENT), { headers: [['Allow-Events', this.packages.events.join(', ')]] });
      return;
    }
    const toTag = parseNameAddr(request.get('to')!)!.params['tag'];
    if (toTag) this.inDialog(incoming, toTag, eventPackage, event.params['id'] ?? undefined);
    else this.initial(incoming, eventPackage, event.params['id'] ?? undefined);
  };

  private initial(incoming: IncomingRequest, eventPackage: EventPackage, eventId: string | undefined): void {
    const { request, respond, flow } = incoming;
    // A resource list of the event is served by its own package (RFC 4662), which may refuse the request as asked.
    const user = parseUri(request.uri)!.user;
    const requested = user === undefined ? undefined : decodeURIComponent(user);
    eventPackage = this.packages.forResource(eventPackage.event, requested) ?? eventPackage;
    const inadmissible = eventPackage.admit?.(request);
    if (inadmissible) {
      respond(inadmissible.answer, { headers: inadmissible.headers });
      return;
    }
    // RFC 5367: a request-contained list is the resource its body defines.
    const resource = requested === undefined || !eventPackage.resourceOf ? requested : eventPackage.resourceOf(request, requested);
    if (typeof resource === 'object') {
      this.summary.note('info', 'SUBSCRIBEs with an unusable resource list', () =>
        `subscribe: resource list of ${parseNameAddr(request.get('from')!)?.uri ?? '?'} (${flow.remoteHost}) refused: ${resource.answer.status} ${resource.answer.reason}`);
      respond(resource.answer, { headers: resource.headers });
      return;
    }
    // RFC 6665 §4.1.2: a body the watcher accepts (no Accept means the package's default), or 406 naming ours.
    const format = eventPackage.negotiate(request.getAll('accept'));
    if (!format) {
      const accepted = eventPackage.bodyTypes.map((type) => type.contentType).join(', ');
      respond(sipAnswer(ERRORS.NOT_ACCEPTABLE, accepted), { headers: [['Accept', accepted]] });
      return;
    }
    // RFC 6665 §4.1.2.1 / RFC 3261 §12.1.1: the Contact becomes the remote target; without one there is no dialog.
    const contact = contactUri(request);
    if (!contact) {
      respond(sipAnswer(ERRORS.BAD_CONTACT));
      return;
    }
    const sips = isSipsDialog(request, contact);
    if (sips && !flow.kind.secure) {
      respond(sipAnswer(ERRORS.SIPS_NEEDS_TLS));
      return;
    }
    const requestUri = parseUri(request.uri)!;
    const exten = resource;
    const context = contextFor(incoming.principal, 'SUBSCRIBE', this.context);
    const hint = exten === undefined ? undefined : eventPackage.resolve(this.hints.current, exten, context);
    if (!hint || exten === undefined) {
      this.summary.note('info', 'SUBSCRIBEs for extensions without a hint', () => `subscribe: no hint for ${exten ?? request.uri}@${context}`);
      respond(sipAnswer(ERRORS.NO_HINT));
      return;
    }
    const refusal = authorize(incoming.principal, { kind: 'subscribe' });
    if (refusal) {
      respond(refusal);
      return;
    }
    const granted = grantExpires(request, this.expiry, respond);
    if (granted === undefined) return;
    const from = parseNameAddr(request.get('from')!)!;
    const localTag = this.manager.newLocalTag();
    const callId = request.get('call-id')!;
    const host = advertisedHost(flow, requestUri.host);
    const routeSet = request.getAll('record-route');
    const subscription = createSubscription({
      callId: detach(callId),
      localTag,
      localIdentity: this.shared.intern(request.get('to')!),
      remoteIdentity: detach(request.get('from')!),
      remoteTarget: detach(contact),
      routeSet: routeSet.length === 0 ? NO_ROUTES : routeSet.map(detach),
      localCseq: 0,
      cseqCeiling: CSEQ_BLOCK,
      remoteCseq: parseCSeq(request.get('cseq')!)!.seq,
      eventId: eventId === undefined ? undefined : detach(eventId),
      flow: this.flows.shared(flow),
      localContact: this.shared.intern(ourContactUri(flow.kind, formatHostPort(host, flow.localPort), sips)),
      sentBy: this.shared.intern(formatHostPort(host, flow.localPort)),
      userAgent: this.shared.intern(request.get('user-agent') ?? ''),
      presentity: this.shared.intern(`sip:${requestUri.user}@${requestUri.host}`),
      digium: wantsDigiumTuple(this.digiumMode, request.get('user-agent')),
      eventPackage,
      format,
      bodyVersion: 0,
      exten: this.shared.intern(exten),
      context,
      hint,
      expiresAt: expiryIn(granted),
    });
    const overLimit = dialogBytes(subscription) > this.maxDialogBytes
      ? REFUSALS.dialogTooLarge(this.maxDialogBytes)
      : granted === 0 ? undefined : this.manager.refusal(flow.remoteHost, resourceKey(exten, context));
    if (overLimit) {
      respond(overLimit, { headers: overLimit.headers });
      return;
    }
    // RFC 3261 §12.1.1: the response that creates the dialog copies every Record-Route, in order, so the watcher's
    // in-dialog requests go through the same proxies (Kamailio's record_route) as our NOTIFYs do.
    const recordRoutes = routeSet.map((route): [string, string] => ['Record-Route', route]);
    respond(OK, { toTag: localTag, headers: [...recordRoutes, ...this.okHeaders(subscription, granted)] });
    if (granted === 0) {
      // RFC 6665 §4.4.3: Expires 0 on a new SUBSCRIBE is a fetch: one NOTIFY with the state, and no subscription.
      this.manager.terminate(subscription, 'timeout');
      return;
    }
    this.log.debug(`subscribe: ${from.uri} → ${exten}@${context} for ${granted}s over ${flow.kind.via}`);
    this.manager.add(subscription);
  }

  private inDialog(incoming: IncomingRequest, localTag: string, eventPackage: EventPackage, eventId: string | undefined): void {
    const { request, respond, flow } = incoming;
    const remoteTag = parseNameAddr(request.get('from')!)!.params['tag'] ?? undefined;
    const subscription = this.manager.find(request.get('call-id')!, localTag, remoteTag);
    // RFC 6665 §4.1.2.2: a SUBSCRIBE for a dialog, event package or event id we do not know gets 481.
    if (!subscription || subscription.eventPackage.event !== eventPackage.event || subscription.eventId !== eventId) {
      respond(sipAnswer(ERRORS.NO_SUBSCRIPTION));
      return;
    }
    const cseq = parseCSeq(request.get('cseq')!)!.seq;
    // RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
    if (cseq <= subscription.remoteCseq) {
      respond(sipAnswer(ERRORS.CSEQ_OUT_OF_ORDER), { toTag: subscription.localTag });
      return;
    }
    // The flow follows a refresh: a SIPS dialog's NOTIFYs must not move off TLS.
    if (!flow.kind.secure && uriScheme(subscription.localContact) === 'sips') {
      respond(sipAnswer(ERRORS.SIPS_NEEDS_TLS), { toTag: subscription.localTag });
      return;
    }
    const granted = grantExpires(request, this.expiry, respond, { toTag: subscription.localTag });
    if (granted === undefined) return;
    // A refresh the store cannot write is not acknowledged: the subscription runs on until its current expiry.
    const unstored = granted === 0 ? undefined : this.manager.storeRefusal();
    if (unstored) {
      respond(unstored, { toTag: subscription.localTag, headers: unstored.headers });
      return;
    }
    subscription.remoteCseq = cseq;
    // §12.2.2: a target refresh request updates the remote target; the flow follows the watcher (NAT rebinding).
    subscription.remoteTarget = contactUri(request) ?? subscription.remoteTarget;
    this.manager.moveFlow(subscription, this.flows.shared(flow));
    respond(OK, { toTag: subscription.localTag, headers: this.okHeaders(subscription, granted) });
    if (granted === 0) this.manager.terminate(subscription, 'timeout');
    else this.manager.refresh(subscription, expiryIn(granted));
  }

  private okHeaders(subscription: Subscription, granted: number): Array<[string, string]> {
    return [
      ['Expires', String(granted)],
      ['Contact', `<${subscription.localContact}>`],
      ...(subscription.eventPackage.dialogHeaders ?? []),
    ];
  }
}


function contactUri(request: SipRequest): string | undefined {
  const value = request.get('contact');
  const first = value === undefined ? undefined : splitHeaderValues(value)[0];
  const uri = first === undefined ? undefined : parseNameAddr(first)?.uri;
  return uri !== undefined && parseUri(uri) ? uri : undefined;
}

/**
 * RFC 3261 §12.1.1: a dialog is a SIPS one when the request's Request-URI is SIPS, or its top Record-Route, or its
 * Contact without a Record-Route. Its NOTIFYs then go over TLS only (§26.2.2).
 */
function isSipsDialog(request: SipRequest, contact: string): boolean {
  if (uriScheme(request.uri) === 'sips') return true;
  const topRoute = request.get('record-route');
  const first = topRoute === undefined ? undefined : splitHeaderValues(topRoute)[0];
  const target = first === undefined ? contact : parseNameAddr(first)?.uri ?? '';
  return uriScheme(target) === 'sips';
}

/** A wildcard bind has no address to put in Contact/Via: use the one the watcher reached us at. */
function advertisedHost(flow: Flow, requestUriHost: string): string {
  const local = flow.localHost;
  return local === '0.0.0.0' || local === '::' || local === '' ? requestUriHost.replace(/^\[|\]$/g, '') : local;
}
