/**
 * Event packages (RFC 6665 §4.4, §7.2): what the generic subscription layer asks of `presence`, `dialog` and any
 * later package. A package names its event, the body types it renders, how a Request-URI resolves to a resource,
 * which state keys the resource depends on, and how its body is built. Adding a package is one `register` call in
 * the composition root; Allow-Events, 489 and PUBLISH dispatch read this registry.
 */
import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import type { SipRequest } from '../sip/message.js';
import type { Hint, Dialplan } from '../presence/hints.js';
import { parseEvent } from '../sip/headers.js';
import type { IncomingRequest, RequestHandler } from '../sip/stack.js';
import type { Subscription } from './subscription.js';

/** A body type a package renders (the NOTIFY's Content-Type, without parameters). */
export interface BodyType { readonly contentType: string }

/**
 * Where a package with `counted` bodies wants the subscription's own counter (dialog-info and RLMI `version`):
 * the shared body is built once per change with this mark, and each NOTIFY gets the watcher's number in its place
 * (in every place: a resource list's RLMI document and its dialog-info parts share the number), so a fan-out
 * serialises no XML per watcher.
 */
export const BODY_COUNTER = '\u0000counter\u0000';

export interface EventPackage {
  /** The Event header token, e.g. 'presence' or 'dialog'. */
  readonly event: string;
  /** The body types it renders, the default (sent when the SUBSCRIBE has no Accept) first. */
  readonly bodyTypes: readonly BodyType[];
  /** Bodies carry a per-subscription counter at BODY_COUNTER; it starts at 0 and rises by one per NOTIFY. */
  readonly counted: boolean;
  /** The body type for these Accept header values; undefined → 406. */
  negotiate(acceptValues: string[]): BodyType | undefined;
  /** The resource a Request-URI user names in a context; undefined → 404. */
  resolve(dialplan: Dialplan, user: string, context: string): Hint | undefined;
  /** The state keys ('CustomPresence:2000', 'Custom:2000', 'PJSIP/2000') whose changes change the body. */
  stateKeys(resource: Hint): readonly string[];
  /**
   * Which watchers share one body: subscriptions with the same key get the same bytes. Called once per
   * subscription (and again when its resource changes).
   */
  variantKey(subscription: Subscription): string;
  /** The body for the resource's current state; built once per change per variant. */
  render(subscription: Subscription): string;
  /**
   * RFC 4662 §5.2 partial state: the body with only what depends on the keys `changed` says changed since the
   * watcher's last NOTIFY, or undefined when this subscription gets full state every time. Asked only for a NOTIFY
   * that follows one the watcher accepted; watchers that last heard the same change share one partial body.
   */
  renderChanges?(subscription: Subscription, changed: (key: string) => boolean): string | undefined;
  /** RFC 3903: handles a PUBLISH for this event, when the package accepts publications. */
  readonly publish?: RequestHandler;
  /** The Event token of this subscription's NOTIFYs when it is not `event` as spelled (a watcher's quirk). */
  eventToken?(subscription: Subscription): string;
  /** Headers the 200 and every NOTIFY of its subscriptions carry (RFC 4662: `Require: eventlist`). */
  readonly dialogHeaders?: ReadonlyArray<[string, string]>;
  /** Changes within this many milliseconds after the first go out in one NOTIFY (RFC 4662 lists); 0 or absent: at once. */
  batchMs?(subscription: Subscription): number;
  /** A refusal of a new SUBSCRIBE the package cannot serve as asked (RFC 4662 §5.1: 421), or undefined. */
  admit?(request: SipRequest): { answer: SipAnswer; headers: Array<[string, string]> } | undefined;
  /**
   * The resource a new SUBSCRIBE to `user` asks for, as `resolve` takes it and the journal keeps it: `user` itself,
   * or what the request's body defines (RFC 5367 request-contained lists); a refusal when the body cannot be served.
   */
  resourceOf?(request: SipRequest, user: string): string | { answer: SipAnswer; headers: Array<[string, string]> };
}

/** A package serving some resources of an event in place of the event's own package (resource lists). */
export interface ResourcePackage extends EventPackage {
  /** Whether the Request-URI user names one of its resources. */
  names(user: string): boolean;
}

/** Every package the server speaks, by event name. */
export class EventPackages {
  private readonly byEvent = new Map<string, EventPackage>();
  private readonly overlays: ResourcePackage[] = [];

  register(eventPackage: EventPackage): this {
    this.byEvent.set(eventPackage.event, eventPackage);
    return this;
  }

  get(event: string): EventPackage | undefined {
    return this.byEvent.get(event);
  }

  /** Serves the resources `overlay` names (a list name) for its event, before the event's own package. */
  overlay(overlay: ResourcePackage): this {
    this.overlays.push(overlay);
    return this;
  }

  /** The package that serves `user` for `event`: an overlay that names it, else the event's own package. */
  forResource(event: string, user: string | undefined): EventPackage | undefined {
    if (user !== undefined) for (const overlay of this.overlays) if (overlay.event === event && overlay.names(user)) return overlay;
    return this.byEvent.get(event);
  }

  /** For Allow-Events (RFC 6665 §8.2.2) in 489s and OPTIONS answers. */
  get events(): string[] {
    return [...this.byEvent.keys()];
  }

  /** Every body type of every package, for Accept in OPTIONS answers. */
  get bodyTypes(): string[] {
    return [...new Set([...this.byEvent.values()].flatMap((p) => p.bodyTypes.map((type) => type.contentType)))];
  }

  /** Events a PUBLISH may carry. */
  get publishable(): string[] {
    return [...this.byEvent.values()].filter((p) => p.publish !== undefined).map((p) => p.event);
  }

  /** RFC 3903 §6 step 2: a PUBLISH goes to its event's package; an event without a compositor gets 489. */
  readonly dispatchPublish: RequestHandler = (incoming: IncomingRequest) => {
    const event = parseEvent(incoming.request.get('event') ?? '');
    const handler = event ? this.byEvent.get(event.event)?.publish : undefined;
    if (!handler) {
      incoming.respond(sipAnswer(ERRORS.BAD_EVENT), { headers: [['Allow-Events', this.publishable.join(', ')]] });
      return;
    }
    handler(incoming);
  };
}
