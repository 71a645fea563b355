import { PIDF_FORMAT } from './bodies.js';
import type { HintDirectory } from './hint-directory.js';
import { parsePidf, publishedState } from './pidf-reader.js';
import { CUSTOM_PRESENCE } from './presence-service.js';
import type { Publication, Publications } from './publications.js';
import { PresenceError, stripControlCharacters, type PresenceState } from './state.js';
import { parseNameAddr } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import type { IncomingRequest } from '../sip/stack.js';
import { describeFlow, type Flow } from '../sip/transport.js';
import { parseUri } from '../sip/uri.js';
import { authorize, contextFor } from '../sip/pipeline.js';
import { ERRORS, OK, sipAnswer, type SipAnswer } from '../errors.js';
import { grantExpires, type ExpiryPolicy } from '../sip/expires.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import { REFUSALS } from '../limits/refusals.js';

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
 * The event state compositor of RFC 3903 for `Event: presence` (EventPackages routed it here by its event, §6 step
 * 2): validates a PUBLISH in the order of §6, resolves the Request-URI to the CustomPresence name of its hint, and
 * adds, refreshes, modifies or removes a publication, answering exactly once — after the change is durable.
 */
export class PublishHandler {
  private readonly publications: Publications;
  private readonly hints: HintDirectory;
  private readonly context: string;
  private readonly expiry: ExpiryPolicy;
  private readonly log: Logger;
  /** Failures come in floods (a failing store, junk PUBLISHes): logged once per interval with a count. */
  private readonly summary: LogSummary;

  constructor(options: PublishHandlerOptions) {
    ({ publications: this.publications, hints: this.hints, context: this.context, expiry: this.expiry, log: this.log } = options);
    this.summary = new LogSummary(this.log);
  }

  readonly handle = (incoming: IncomingRequest): void => {
    const { request, respond } = incoming;
    // §6 step 1: the Request-URI names the resource: the CustomPresence provider of the hint it resolves to.
    const context = contextFor(incoming.principal, 'PUBLISH', this.context);
    const user = requestUser(request);
    const name = user === undefined ? undefined : this.resourceName(user, context);
    if (name === undefined || user === undefined) {
      this.summary.note('info', 'PUBLISHes for extensions without a CustomPresence hint', () => `publish: no CustomPresence hint for ${request.uri} in ${context}`);
      respond(sipAnswer(ERRORS.NO_CUSTOM_PRESENCE_HINT));
      return;
    }
    const refusal = authorize(incoming.principal, { kind: 'publish', user });
    if (refusal) {
      respond(refusal);
      return;
    }
    const operation = this.operation(request, name, respond);
    if (operation === undefined) return;
    this.apply(name, operation, source(request, incoming.flow), incoming.flow.remoteHost).then(
      (answer) => respond(answer, { headers: answer.headers }),
      (error: unknown) => {
        // Nothing changed (a publication is durable before it counts): the publisher may try again later.
        this.summary.note('error', 'failed PUBLISHes', () => `publish: ${operation.kind} for ${name} failed: ${(error as Error).stack ?? String(error)}`);
        respond(REFUSALS.storeUnavailable, { headers: REFUSALS.storeUnavailable.headers });
      },
    );
  };

  /** The CustomPresence name the Request-URI user's hint points at, if any. */
  private resourceName(user: string, context: string): string | undefined {
    const hint = this.hints.current.resolve(user, context);
    const provider = hint?.presence;
    return provider?.startsWith(CUSTOM_PRESENCE) ? provider.slice(CUSTOM_PRESENCE.length) : undefined;
  }

  /** §6 steps 3–5: SIP-If-Match, Expires, then the body; answers and returns undefined when the request is bad. */
  private operation(request: SipRequest, name: string, respond: Respond): Operation | undefined {
    const ifMatch = request.getAll('sip-if-match');
    // §6 step 3: a single entity-tag (a token) that we hold for this resource, else 412.
    if (ifMatch.length > 1 || (ifMatch.length === 1 && !/^[^\s,]+$/.test(ifMatch[0]))) {
      respond(sipAnswer(ERRORS.BAD_ENTITY_TAG));
      return undefined;
    }
    const etag = ifMatch[0];
    if (etag !== undefined && !this.publications.live(name).some((publication) => publication.etag === etag)) {
      respond(sipAnswer(ERRORS.CONDITIONAL_REQUEST_FAILED));
      return undefined;
    }
    // §6 step 4: the expiry (0 removes).
    const expires = grantExpires(request, this.expiry, respond);
    if (expires === undefined) return undefined;
    if (expires === 0) {
      if (etag !== undefined) return { kind: 'remove', etag };
      respond(sipAnswer(ERRORS.NOTHING_TO_REMOVE));
      return undefined;
    }
    if (request.body === '') {
      if (etag !== undefined) return { kind: 'refresh', etag, expires };
      respond(sipAnswer(ERRORS.MISSING_BODY));
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
      respond(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), { headers: [['Accept', PUBLISH_TYPES.join(', ')]] });
      return undefined;
    }
    // RFC 3261 §8.2.3: an encoding we cannot undo is 415 too, with the ones we take.
    const encoding = (request.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      respond(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), { headers: [['Accept-Encoding', 'identity']] });
      return undefined;
    }
    let state: PresenceState | undefined;
    try {
      state = publishedState(parsePidf(request.body));
    } catch (error) {
      if (!(error instanceof PresenceError)) throw error;
      respond(sipAnswer(ERRORS.BAD_BODY, stripControlCharacters(error.message).slice(0, MAX_REASON_DETAIL)));
      return undefined;
    }
    if (state === undefined) {
      respond(sipAnswer(ERRORS.NO_STATE_IN_BODY));
    }
    return state;
  }

  private async apply(name: string, operation: Operation, from: string, address: string): Promise<SipAnswer & { headers: Array<[string, string]> }> {
    const expiresAt = (seconds: number): number => Date.now() + seconds * 1000;
    let publication: Publication | undefined;
    switch (operation.kind) {
      case 'initial': {
        const added = await this.publications.add(name, operation.state, from, expiresAt(operation.expires), address);
        if ('status' in added) return added;
        publication = added;
        break;
      }
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
    if (!publication) return { ...sipAnswer(ERRORS.CONDITIONAL_REQUEST_FAILED), headers: [] };
    const expires = operation.kind === 'remove' ? 0 : operation.expires;
    this.log.debug(`publish: ${operation.kind} ${publication.etag} for ${name} by ${from}: ${publication.state.state} for ${expires}s`);
    // §6 step 7: the 200 carries the (new) entity-tag and the granted expiry.
    return { ...OK, headers: [['SIP-ETag', publication.etag], ['Expires', String(expires)]] };
  }
}

/** The Request-URI's user part, unescaped. */
function requestUser(request: SipRequest): string | undefined {
  const user = parseUri(request.uri)?.user;
  return user === undefined ? undefined : decodeURIComponent(user);
}

/** The publisher as logs show it: its From URI, User-Agent and where the PUBLISH came from. */
function source(request: SipRequest, flow: Flow): string {
  const from = parseNameAddr(request.get('from')!)?.uri ?? '';
  const userAgent = request.get('user-agent');
  return stripControlCharacters(`${userAgent ? `${from} (${userAgent})` : from} from ${describeFlow(flow)}`);
}
