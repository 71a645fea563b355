import { ERRORS, sipAnswer, type SipAnswer } from '../errors.js';
import { parseCSeq, parseDigits, parseNameAddr, uriScheme } from './headers.js';
import type { SipRequest } from './message.js';
import { parseUri } from './uri.js';

/** First reason to reject the request before any method handling (RFC 3261 §8.2, §16.3 for Max-Forwards). */
export function checkRequest(req: SipRequest): SipAnswer | undefined {
  if (req.problem !== undefined) return sipAnswer(ERRORS.BAD_REQUEST, req.problem);
  return checkVia(req) ?? checkDialogHeaders(req) ?? checkMaxForwards(req) ?? checkRequestUri(req) ?? checkContentLength(req);
}

function checkVia(req: SipRequest): SipAnswer | undefined {
  if (req.topVia() !== undefined) return undefined;
  return sipAnswer(req.getAll('via').length === 0 ? ERRORS.MISSING_HEADER : ERRORS.MALFORMED_HEADER, 'Via');
}

/** The single-valued header `name`, or the problem with it. RFC 4475 §3.1.2.19: repeated copies are malformed. */
function singleValue(req: SipRequest, name: string): string | SipAnswer {
  const values = req.headers.get(name.toLowerCase());
  if (values === undefined) return sipAnswer(ERRORS.MISSING_HEADER, name);
  if (values.length > 1) return sipAnswer(ERRORS.MULTIPLE_HEADERS, name);
  return values[0];
}

/** From, To, Call-ID and CSeq (RFC 3261 §8.1.1). */
function checkDialogHeaders(req: SipRequest): SipAnswer | undefined {
  const from = singleValue(req, 'From');
  if (typeof from !== 'string') return from;
  const fromAddress = parseNameAddr(from);
  if (fromAddress === undefined) return sipAnswer(ERRORS.MALFORMED_HEADER, 'From');
  if (!fromAddress.params.tag) return sipAnswer(ERRORS.MISSING_FROM_TAG);

  const to = singleValue(req, 'To');
  if (typeof to !== 'string') return to;
  if (parseNameAddr(to) === undefined) return sipAnswer(ERRORS.MALFORMED_HEADER, 'To');

  const callId = singleValue(req, 'Call-ID');
  if (typeof callId !== 'string') return callId;
  if (callId === '' || /\s/.test(callId)) return sipAnswer(ERRORS.MALFORMED_HEADER, 'Call-ID');

  const cseqValue = singleValue(req, 'CSeq');
  if (typeof cseqValue !== 'string') return cseqValue;
  const cseq = parseCSeq(cseqValue);
  if (cseq === undefined) return sipAnswer(ERRORS.MALFORMED_HEADER, 'CSeq');
  if (cseq.method !== req.method) return sipAnswer(ERRORS.CSEQ_METHOD_MISMATCH);
  return undefined;
}

function checkMaxForwards(req: SipRequest): SipAnswer | undefined {
  const value = req.get('max-forwards');
  if (value === undefined) return undefined;
  const hops = parseDigits(value);
  if (hops === undefined) return sipAnswer(ERRORS.MALFORMED_HEADER, 'Max-Forwards');
  return hops === 0 ? sipAnswer(ERRORS.TOO_MANY_HOPS) : undefined;
}

/** A URI with a well-formed scheme we do not serve is 416 (RFC 3261 §8.2.2.1); anything else unusable is 400. */
function checkRequestUri(req: SipRequest): SipAnswer | undefined {
  const scheme = uriScheme(req.uri);
  if (scheme === undefined) return sipAnswer(ERRORS.MALFORMED_REQUEST_URI);
  if (scheme !== 'sip' && scheme !== 'sips') return sipAnswer(ERRORS.UNSUPPORTED_URI_SCHEME);
  return parseUri(req.uri) === undefined ? sipAnswer(ERRORS.MALFORMED_REQUEST_URI) : undefined;
}

function checkContentLength(req: SipRequest): SipAnswer | undefined {
  const value = req.get('content-length');
  return value !== undefined && parseDigits(value) === undefined ? sipAnswer(ERRORS.BAD_CONTENT_LENGTH) : undefined;
}
