/**
 * The answers a request gets when it hits a limit: the registry's errors (lib/errors.ts), plus Retry-After when the
 * server as a whole is full or cannot write (RFC 3261 §21.5.4: the client may try again later).
 */
import { ERRORS, sipAnswer, type ErrorDefinition, type SipAnswer } from '../errors.js';
import { FULL_RETRY_AFTER_S } from './limits.js';

export interface Refusal extends SipAnswer {
  headers: Array<[string, string]>;
}

function refusal(error: ErrorDefinition, detail?: string): Refusal {
  return { ...sipAnswer(error, detail), headers: [] };
}

function full(error: ErrorDefinition): Refusal {
  return { ...sipAnswer(error), headers: [['Retry-After', String(FULL_RETRY_AFTER_S)]] };
}

export const REFUSALS = {
  requestTooLarge: (max: number): Refusal => refusal(ERRORS.REQUEST_TOO_LARGE, String(max)),
  headerTooLong: (header: string, max: number): Refusal =>
    refusal(ERRORS.HEADER_TOO_LONG, `${header === 'Request-URI' ? header : `${header} header`} over ${max} bytes`),
  dialogTooLarge: (max: number): Refusal => refusal(ERRORS.DIALOG_TOO_LARGE, String(max)),
  subscriptionsFull: full(ERRORS.SUBSCRIPTIONS_FULL),
  subscriptionsPerSource: refusal(ERRORS.SUBSCRIPTIONS_PER_SOURCE),
  subscriptionsPerPresentity: refusal(ERRORS.SUBSCRIPTIONS_PER_PRESENTITY),
  publicationsFull: full(ERRORS.PUBLICATIONS_FULL),
  storeUnavailable: full(ERRORS.STORE_UNAVAILABLE),
  publicationsPerPresentity: refusal(ERRORS.TOO_MANY_PUBLICATIONS),
  publicationsPerSource: refusal(ERRORS.PUBLICATIONS_PER_SOURCE),
} as const;
