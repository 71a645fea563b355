import { ERRORS, sipAnswer } from '../errors.js';
import type { SipRequest } from './message.js';
import type { ResponseOptions } from './response.js';
import type { IncomingRequest } from './stack.js';

/** The lengths a notifier or compositor grants: RFC 6665 §4.2.1.1 for SUBSCRIBE, RFC 3903 §6 step 4 for PUBLISH. */
export interface ExpiryPolicy { min: number; max: number; default: number }

/**
 * The granted expiry of a SUBSCRIBE or PUBLISH, or undefined after answering: a malformed Expires gets 400, one
 * shorter than the minimum 423 with Min-Expires (0 means "end it" and is granted); a longer one is shortened and a
 * missing one gets the default.
 */
export function grantExpires(
  request: SipRequest,
  policy: ExpiryPolicy,
  respond: IncomingRequest['respond'],
  options: Pick<ResponseOptions, 'toTag'> = {},
): number | undefined {
  const value = request.get('expires');
  if (value === undefined) return policy.default;
  if (!/^\d{1,10}$/.test(value)) {
    respond(sipAnswer(ERRORS.MALFORMED_EXPIRES), options);
    return undefined;
  }
  const expires = Number(value);
  if (expires > 0 && expires < policy.min) {
    respond(sipAnswer(ERRORS.INTERVAL_TOO_BRIEF), { ...options, headers: [['Min-Expires', String(policy.min)]] });
    return undefined;
  }
  return Math.min(expires, policy.max);
}
