import { parseCSeq, parseDigits, parseNameAddr, uriScheme } from './headers.js';
import type { SipRequest } from './message.js';
import { parseUri } from './uri.js';

export interface RequestProblem { status: number; reason: string }

function badRequest(reason: string): RequestProblem {
  return { status: 400, reason };
}

/** First reason to reject the request before any method handling (RFC 3261 §8.2, §16.3 for Max-Forwards). */
export function checkRequest(req: SipRequest): RequestProblem | undefined {
  if (req.problem !== undefined) return badRequest(req.problem);
  return checkVia(req) ?? checkDialogHeaders(req) ?? checkMaxForwards(req) ?? checkRequestUri(req) ?? checkContentLength(req);
}

function checkVia(req: SipRequest): RequestProblem | undefined {
  if (req.topVia() !== undefined) return undefined;
  return badRequest(req.getAll('via').length === 0 ? 'Missing Via header' : 'Malformed Via header');
}

/** The single-valued header `name`, or the problem with it. RFC 4475 §3.1.2.19: repeated copies are malformed. */
function singleValue(req: SipRequest, name: string): string | RequestProblem {
  const values = req.headers.get(name.toLowerCase());
  if (values === undefined) return badRequest(`Missing ${name} header`);
  if (values.length > 1) return badRequest(`Multiple ${name} headers`);
  return values[0];
}

/** From, To, Call-ID and CSeq (RFC 3261 §8.1.1). */
function checkDialogHeaders(req: SipRequest): RequestProblem | undefined {
  const from = singleValue(req, 'From');
  if (typeof from !== 'string') return from;
  const fromAddress = parseNameAddr(from);
  if (fromAddress === undefined) return badRequest('Malformed From header');
  if (!fromAddress.params.tag) return badRequest('Missing From tag');

  const to = singleValue(req, 'To');
  if (typeof to !== 'string') return to;
  if (parseNameAddr(to) === undefined) return badRequest('Malformed To header');

  const callId = singleValue(req, 'Call-ID');
  if (typeof callId !== 'string') return callId;
  if (callId === '' || /\s/.test(callId)) return badRequest('Malformed Call-ID header');

  const cseqValue = singleValue(req, 'CSeq');
  if (typeof cseqValue !== 'string') return cseqValue;
  const cseq = parseCSeq(cseqValue);
  if (cseq === undefined) return badRequest('Malformed CSeq header');
  if (cseq.method !== req.method) return badRequest('CSeq method does not match');
  return undefined;
}

function checkMaxForwards(req: SipRequest): RequestProblem | undefined {
  const value = req.get('max-forwards');
  if (value === undefined) return undefined;
  const hops = parseDigits(value);
  if (hops === undefined) return badRequest('Malformed Max-Forwards header');
  return hops === 0 ? { status: 483, reason: 'Too Many Hops' } : undefined;
}

/** A URI with a well-formed scheme we do not serve is 416 (RFC 3261 §8.2.2.1); anything else unusable is 400. */
function checkRequestUri(req: SipRequest): RequestProblem | undefined {
  const scheme = uriScheme(req.uri);
  if (scheme === undefined) return badRequest('Malformed Request-URI');
  if (scheme !== 'sip' && scheme !== 'sips') return { status: 416, reason: 'Unsupported URI Scheme' };
  return parseUri(req.uri) === undefined ? badRequest('Malformed Request-URI') : undefined;
}

function checkContentLength(req: SipRequest): RequestProblem | undefined {
  const value = req.get('content-length');
  return value !== undefined && parseDigits(value) === undefined ? badRequest('Bad Content-Length') : undefined;
}
