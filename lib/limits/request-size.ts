/**
 * Size limits on what a request may make us keep (issue D1): checked before anything reads the request, so an
 * oversized one is answered and forgotten.
 */
import type { SipRequest } from '../sip/message.js';
import type { Limits } from './limits.js';
import { REFUSALS, type Refusal } from './refusals.js';

export type SizeLimits = Pick<Limits, 'maxHeaderBytes' | 'maxRequestBytes'>;

/** 513 for a request over maxRequestBytes; 400 naming the first header (or the Request-URI) over maxHeaderBytes. */
export function checkRequestSize(request: SipRequest, requestBytes: number, limits: SizeLimits): Refusal | undefined {
  if (requestBytes > limits.maxRequestBytes) return REFUSALS.requestTooLarge(limits.maxRequestBytes);
  if (request.uri.length > limits.maxHeaderBytes) return REFUSALS.headerTooLong('Request-URI', limits.maxHeaderBytes);
  for (const [key, values] of request.headers) {
    for (const value of values) {
      if (value.length > limits.maxHeaderBytes) return REFUSALS.headerTooLong(displayName(key), limits.maxHeaderBytes);
    }
    // A long name is as costly as a long value.
    if (key.length > limits.maxHeaderBytes) return REFUSALS.headerTooLong(displayName(key.slice(0, 32)), limits.maxHeaderBytes);
  }
  return undefined;
}

const SPECIAL_NAMES: ReadonlyMap<string, string> = new Map([['call-id', 'Call-ID'], ['cseq', 'CSeq'], ['www-authenticate', 'WWW-Authenticate'], ['sip-etag', 'SIP-ETag'], ['sip-if-match', 'SIP-If-Match']]);

/** 'record-route' → 'Record-Route'; only token characters survive, so the name is safe in a reason phrase. */
function displayName(key: string): string {
  const special = SPECIAL_NAMES.get(key);
  if (special) return special;
  return key.replace(/[^-!%*_+`'~.0-9a-z]/g, '?').replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}
