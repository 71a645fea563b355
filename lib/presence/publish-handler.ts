import { PIDF_FORMAT } from './bodies.js';
import type { HintDirectory } from './hint-directory.js';
import { parsePidf, publishedState } from './pidf-reader.js';
import { CUSTOM_PRESENCE } from './presence-service.js';
import type { Publication, Publications } from './publications.js';
import { PresenceError, stripControlCharacters, type PresenceState } from './state.js';
import { parseEvent, parseNameAddr } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import type { IncomingRequest } from '../sip/stack.js';
import { parseUri } from '../sip/uri.js';
import { EVENT_PACKAGE } from '../subscriptions/subscribe-handler.js';
import { grantExpires, type ExpiryPolicy } from '../sip/expires.js';
import type { Logger } from '../util/log.js';

/** Body types a PUBLISH may carry. */
const PUBLISH_TYPES: readonly string[] = [PIDF_FORMAT.contentType];

type Respond = IncomingRequest['respond'];

/** What a valid PUBLISH asks for (RFC 3903 §4, Table 1). */
type Operation =
  | { kind: 'initial'; state: PresenceState; expires: number }
  | { kind: 'refresh'; etag: string; expires: number }
  | { kind: 'modify'; etag: string; state: PresenceState; expires: number }
  | { kind: 'remove'; etag: string };

/** Longest error text copied from a body problem into a reason phrase. */
const MAX_REASON_DETAIL = 160;

export interface PublishHandlerOptions {
  publications: Publications;
  hints: HintDirectory;
  /** The dialplan context Request-URIs resolve in. */
  context: string;
  expiry: ExpiryPolicy;
  log: Logger;
}

/**
 * The event state compositor of RFC 3903 for `Event: presence`: validates a PUBLISH in the order of §6, resolves
 * the Request-URI to the CustomPresence name of its hint, and adds, refreshes, modifies or removes a publication,
 * answering exactly once — after the change is durable.
 */
export class PublishHandler {
  private readonly publications: Publications;
  private readonly hints: HintDirectory;
  private readonly context: string;
  private readonly expiry: ExpiryPolicy;
  private readonly log: Logger;

  constructor(options: PublishHandlerOptions) {
    ({ publications: this.publications, hints: this.hints, context: this.context, expiry: this.expiry, log: this.log } = options);
  }

  readonly handle = (incoming: IncomingRequest): void => {
    const { request, respond } = incoming;
    // §6 step 1: the Request-URI names the resource: the CustomPresence provider of the hint it resolves to.
    const name = this.resourceName(request);
    if (name === undefined) {
      this.log.info(`publish: no CustomPresence hint for ${request.uri} in ${this.context}`);
      respond(404, 'Not Found (no hint with a CustomPresence provider for this extension)');
      return;
    }
    // §6 step 2: only the presence event package.
    const event = parseEvent(request.get('event') ?? '');
    if (!event || event.event !== EVENT_PACKAGE) {
      respond(489, 'Bad Event', { headers: [['Allow-Events', EVENT_PACKAGE]] });
      return;
    }
    const operation = this.operation(request, name, respond);
    if (operation === undefined) return;
    this.apply(name, operation, source(request)).then(
      (answer) => respond(answer.status, answer.reason, { headers: answer.headers }),
      (error: unknown) => {
        this.log.error(`publish: ${operation.kind} for ${name} failed: ${(error as Error).stack ?? String(error)}`);
        respond(500, 'Server Internal Error');
      },
    );
  };

  /** The CustomPresence name the Request-URI's hint points at, if any. */
  private resourceName(request: SipRequest): string | undefined {
    const user = parseUri(request.uri)?.user;
    const hint = user === undefined ? undefined : this.hints.current.resolve(decodeURIComponent(user), this.context);
    const provider = hint?.presence;
    return provider?.startsWith(CUSTOM_PRESENCE) ? provider.slice(CUSTOM_PRESENCE.length) : undefined;
  }

  /** §6 steps 3–5: SIP-If-Match, Expires, then the body; answers and returns undefined when the request is bad. */
  private operation(request: SipRequest, name: string, respond: Respond): Operation | undefined {
    const ifMatch = request.getAll('sip-if-match');
    // §6 step 3: a single entity-tag (a token) that we hold for this resource, else 412.
    if (ifMatch.length > 1 || (ifMatch.length === 1 && !/^[^\s,]+$/.test(ifMatch[0]))) {
      respond(400, 'Bad Request (SIP-If-Match must hold one entity-tag)');
      return undefined;
    }
    const etag = ifMatch[0];
    if (etag !== undefined && !this.publications.live(name).some((publication) => publication.etag === etag)) {
      respond(412, 'Conditional Request Failed');
      return undefined;
    }
    // §6 step 4: the expiry (0 removes).
    const expires = grantExpires(request, this.expiry, respond);
    if (expires === undefined) return undefined;
    if (expires === 0) {
      if (etag !== undefined) return { kind: 'remove', etag };
      respond(400, 'Bad Request (Expires 0 needs a SIP-If-Match: there is nothing to remove)');
      return undefined;
    }
    if (request.body === '') {
      if (etag !== undefined) return { kind: 'refresh', etag, expires };
      respond(400, 'Bad Request (an initial PUBLISH needs a PIDF body)');
      return undefined;
    }
    const state = this.bodyState(request, respond);
    if (state === undefined) return undefined;
    return etag === undefined ? { kind: 'initial', state, expires } : { kind: 'modify', etag, state, expires };
  }

  /** §6 step 5: the body must be a PIDF document we can map to a state (415 for other types, 400 otherwise). */
  private bodyState(request: SipRequest, respond: Respond): PresenceState | undefined {
    const type = (request.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!PUBLISH_TYPES.includes(type)) {
      respond(415, 'Unsupported Media Type', { headers: [['Accept', PUBLISH_TYPES.join(', ')]] });
      return undefined;
    }
    // RFC 3261 §8.2.3: an encoding we cannot undo is 415 too, with the ones we take.
    const encoding = (request.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      respond(415, 'Unsupported Media Type', { headers: [['Accept-Encoding', 'identity']] });
      return undefined;
    }
    let state: PresenceState | undefined;
    try {
      state = publishedState(parsePidf(request.body));
    } catch (error) {
      if (!(error instanceof PresenceError)) throw error;
      respond(400, `Bad Request (${stripControlCharacters(error.message).slice(0, MAX_REASON_DETAIL)})`);
      return undefined;
    }
    if (state === undefined) {
      respond(400, 'Bad Request (the PIDF document has no digium_presence, RPID activity or basic status)');
    }
    return state;
  }

  private async apply(name: string, operation: Operation, from: string): Promise<{ status: number; reason: string; headers: Array<[string, string]> }> {
    const expiresAt = (seconds: number): number => Date.now() + seconds * 1000;
    let publication: Publication | undefined;
    switch (operation.kind) {
      case 'initial':
        publication = await this.publications.add(name, operation.state, from, expiresAt(operation.expires));
        if (!publication) return { status: 403, reason: 'Forbidden (too many publications for this presentity)', headers: [] };
        break;
      case 'refresh':
        publication = await this.publications.update(name, operation.etag, { source: from, expiresAt: expiresAt(operation.expires) });
        break;
      case 'modify':
        publication = await this.publications.update(name, operation.etag, { state: operation.state, source: from, expiresAt: expiresAt(operation.expires) });
        break;
      case 'remove':
        publication = await this.publications.remove(name, operation.etag);
        break;
    }
    // It expired or was replaced while this request waited its turn.
    if (!publication) return { status: 412, reason: 'Conditional Request Failed', headers: [] };
    const expires = operation.kind === 'remove' ? 0 : operation.expires;
    this.log.debug(`publish: ${operation.kind} ${publication.etag} for ${name} by ${from}: ${publication.state.state} for ${expires}s`);
    // §6 step 7: the 200 carries the (new) entity-tag and the granted expiry.
    return { status: 200, reason: 'OK', headers: [['SIP-ETag', publication.etag], ['Expires', String(expires)]] };
  }
}

/** The publisher as logs show it: its From URI and User-Agent. */
function source(request: SipRequest): string {
  const from = parseNameAddr(request.get('from')!)?.uri ?? '';
  const userAgent = request.get('user-agent');
  return stripControlCharacters(userAgent ? `${from} (${userAgent})` : from);
}
