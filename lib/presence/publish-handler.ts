import { PIDF_FORMAT } from './bodies.js';
import type { HintDirectory } from './hint-directory.js';
import { parsePidf, publishedState } from './pidf-reader.js';
import { CUSTOM_PRESENCE } from './presence-service.js';
import type { Publication, Publications } from './publications.js';
import { stripControlCharacters, type PresenceState } from './state.js';
import { PresencedError } from '../errors.js';
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

type Respond = IncomingRequest['respond'];

/** What a valid PUBLISH asks for (RFC 3903 §4, Table 1). */
type Operation<S> =
  | { kind: 'initial'; state: S; expires: number }
  | { kind: 'refresh'; etag: string; expires: number }
  | { kind: 'modify'; etag: string; state: S; expires: number }
  | { kind: 'remove'; etag: string };

/** Longest error text copied from a body problem into a reason phrase. */
const MAX_REASON_DETAIL = 160;

/** A body problem as reason-phrase text: sipAnswer makes it Reason-Phrase-safe, this keeps it short. */
function reasonDetail(message: string): string {
  return message.slice(0, MAX_REASON_DETAIL);
}

/** What one event's compositor adds to the RFC 3903 steps: its resources, its bodies, its states. */
export interface PublishedEvent<S> {
  /** The body types a PUBLISH may carry (415 names them). */
  readonly bodyTypes: readonly string[];
  /** The publication name of the Request-URI user's resource in a context, or undefined (then `unknown`). */
  resourceName(hints: HintDirectory, user: string, context: string): string | undefined;
  /** The answer for a Request-URI without such a resource, and how the log names those PUBLISHes. */
  readonly unknown: { answer: SipAnswer; log: string };
  /** The answer for an initial PUBLISH without a body. */
  readonly missingBody: SipAnswer;
  /** The state a body says; throws a PresencedError naming the problem (400), or returns an answer refusing it. */
  read(body: string): S | { refusal: SipAnswer };
  /** The state as the debug log shows it. */
  describe(state: S): string;
}

/** `Event: presence`: PIDF documents for the CustomPresence provider of the Request-URI's hint. */
export const PRESENCE_PUBLISHING: PublishedEvent<PresenceState> = {
  bodyTypes: [PIDF_FORMAT.contentType],
  resourceName(hints, user, context) {
    const provider = hints.current.resolve(user, context)?.presence;
    return provider?.startsWith(CUSTOM_PRESENCE) ? provider.slice(CUSTOM_PRESENCE.length) : undefined;
  },
  unknown: { answer: sipAnswer(ERRORS.NO_CUSTOM_PRESENCE_HINT), log: 'PUBLISHes for extensions without a CustomPresence hint' },
  missingBody: sipAnswer(ERRORS.MISSING_BODY),
  read: (body) => publishedState(parsePidf(body)) ?? { refusal: sipAnswer(ERRORS.NO_STATE_IN_BODY) },
  describe: (state) => state.state,
};

export interface PublishHandlerOptions<S> {
  publications: Publications<S>;
  /** The event's resources and bodies. */
  event: PublishedEvent<S>;
  hints: HintDirectory;
  /** The dialplan context Request-URIs resolve in. */
  context: string;
  expiry: ExpiryPolicy;
  log: Logger;
}

/**
 * An event state compositor of RFC 3903 (EventPackages routed the PUBLISH here by its event, §6 step 2): validates
 * a PUBLISH in the order of §6, resolves the Request-URI to its event's resource name (for presence the
 * CustomPresence name of its hint), and adds, refreshes, modifies or removes a publication, answering exactly once —
 * after the change is durable.
 */
export class PublishHandler<S> {
  private readonly publications: Publications<S>;
  private readonly event: PublishedEvent<S>;
  private readonly hints: HintDirectory;
  private readonly context: string;
  private readonly expiry: ExpiryPolicy;
  private readonly log: Logger;
  /** Failures come in floods (a failing store, junk PUBLISHes): logged once per interval with a count. */
  private readonly summary: LogSummary;

  constructor(options: PublishHandlerOptions<S>) {
    ({ publications: this.publications, event: this.event, hints: this.hints, context: this.context, expiry: this.expiry, log: this.log } = options);
    this.summary = new LogSummary(this.log);
  }

  readonly handle = (incoming: IncomingRequest): void => {
    const { request, respond } = incoming;
    // §6 step 1: the Request-URI names the resource (for presence the CustomPresence provider of its hint).
    const context = contextFor(incoming.principal, 'PUBLISH', this.context);
    const user = requestUser(request);
    const name = user === undefined ? undefined : this.event.resourceName(this.hints, user, context);
    if (name === undefined || user === undefined) {
      const { answer, log } = this.event.unknown;
      this.summary.note('info', log, () => `publish: ${answer.reason}: ${request.uri} in ${context}`);
      respond(answer);
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

  /** §6 steps 3–5: SIP-If-Match, Expires, then the body; answers and returns undefined when the request is bad. */
  private operation(request: SipRequest, name: string, respond: Respond): Operation<S> | undefined {
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
      respond(this.event.missingBody);
      return undefined;
    }
    const state = this.bodyState(request, respond);
    if (state === undefined) return undefined;
    return etag === undefined ? { kind: 'initial', state, expires } : { kind: 'modify', etag, state, expires };
  }

  /** §6 step 5: the body must be a document of the event we can map to a state (415 for other types, 400 otherwise). */
  private bodyState(request: SipRequest, respond: Respond): S | undefined {
    const type = (request.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (!this.event.bodyTypes.includes(type)) {
      respond(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), { headers: [['Accept', this.event.bodyTypes.join(', ')]] });
      return undefined;
    }
    // RFC 3261 §8.2.3: an encoding we cannot undo is 415 too, with the ones we take.
    const encoding = (request.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      respond(sipAnswer(ERRORS.UNSUPPORTED_MEDIA_TYPE), { headers: [['Accept-Encoding', 'identity']] });
      return undefined;
    }
    let read: S | { refusal: SipAnswer };
    try {
      read = this.event.read(request.body);
    } catch (error) {
      if (!(error instanceof PresencedError)) throw error;
      respond(sipAnswer(ERRORS.BAD_BODY, reasonDetail(error.message)));
      return undefined;
    }
    if (typeof read === 'object' && read !== null && 'refusal' in read) {
      respond(read.refusal);
      return undefined;
    }
    return read;
  }

  private async apply(name: string, operation: Operation<S>, from: string, address: string): Promise<SipAnswer & { headers: Array<[string, string]> }> {
    const expiresAt = (seconds: number): number => Date.now() + seconds * 1000;
    let publication: Publication<S> | undefined;
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
    this.log.debug(`publish: ${operation.kind} ${publication.etag} for ${name} by ${from}: ${this.event.describe(publication.state)} for ${expires}s`);
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
