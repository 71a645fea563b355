import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import type { IncomingRequest, RequestHandler } from './stack.js';

/**
 * The application half of the request pipeline. The stack does parse → transaction match → validate; then each
 * step here either answers the request (and stops it) or passes it on with `next()`, possibly later (a delayed
 * answer to a failed authentication). The server composes: authenticate → route (MethodRouter) → the event
 * package's handler, which resolves the resource and calls `authorize`.
 */
export type RequestStep = (incoming: IncomingRequest, next: () => void) => void;

/** Runs `steps` in order, then `last`; a step that answers and does not call next() ends the request. */
export function pipeline(steps: readonly RequestStep[], last: RequestHandler): RequestHandler {
  return steps.reduceRight<RequestHandler>((rest, step) => (incoming) => step(incoming, () => rest(incoming)), last);
}

/**
 * Who a request comes from, as the authenticate step found it. Without one (open mode) anyone may subscribe to and
 * publish any presentity in the server's default context.
 */
export interface Principal {
  /** The endpoint's name, e.g. `6001` or `anonymous`. */
  readonly endpoint: string;
  /** The Request-URI users whose presence it may publish (its name and auth usernames). */
  readonly owns: readonly string[];
  /** Where its SUBSCRIBEs resolve (pjsip `subscribe_context`, else `context`). */
  readonly subscribeContext: string;
  /** Where its other requests resolve (pjsip `context`). */
  readonly context: string;
  readonly allowSubscribe: boolean;
}

/** The request `incoming` wants, on the resource its Request-URI user names. */
export type Action = { kind: 'subscribe' } | { kind: 'publish'; user: string };

/** The last step: may the principal do `action` on the resolved resource? A refusal, or undefined when allowed. */
export function authorize(principal: Principal | undefined, action: Action): SipAnswer | undefined {
  if (principal === undefined) return undefined;
  if (action.kind === 'subscribe') return principal.allowSubscribe ? undefined : sipAnswer(ERRORS.SUBSCRIBE_NOT_ALLOWED);
  return principal.owns.includes(action.user) ? undefined : sipAnswer(ERRORS.NOT_OWN_PRESENTITY);
}

/** The context a request resolves its Request-URI in: the principal's, else the server's default. */
export function contextFor(principal: Principal | undefined, method: string, fallback: string): string {
  if (principal === undefined) return fallback;
  return method === 'SUBSCRIBE' ? principal.subscribeContext : principal.context;
}
