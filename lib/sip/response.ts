import { formatVia, parseDigits, parseNameAddr } from './headers.js';
import type { SipRequest } from './message.js';

export interface ResponseOptions {
  toTag?: string;
  headers?: Array<[string, string]>;
  body?: string;
  /** Content-Type of `body`; text/plain when a body is given without one (RFC 3261 §20.15 requires the header). */
  contentType?: string;
}

/** RFC 3261 §8.2.6: a response copies Via (all, in order), From, To (plus the UAS tag), Call-ID and CSeq. */
export function buildResponse(req: SipRequest, status: number, reason: string, options: ResponseOptions = {}): string {
  let text = `SIP/2.0 ${status} ${reason}\r\n`;
  for (const via of req.getAll('via')) text += `Via: ${via}\r\n`;
  const from = req.get('from');
  if (from !== undefined) text += `From: ${from}\r\n`;
  const to = req.get('to');
  if (to !== undefined) {
    const needsTag = options.toTag !== undefined && parseNameAddr(to)?.params.tag === undefined;
    text += needsTag ? `To: ${to};tag=${options.toTag}\r\n` : `To: ${to}\r\n`;
  }
  const callId = req.get('call-id');
  if (callId !== undefined) text += `Call-ID: ${callId}\r\n`;
  const cseq = req.get('cseq');
  if (cseq !== undefined) text += `CSeq: ${cseq}\r\n`;
  for (const [name, value] of options.headers ?? []) text += `${name}: ${value}\r\n`;
  const body = options.body ?? '';
  if (body !== '') text += `Content-Type: ${options.contentType ?? 'text/plain'}\r\n`;
  return `${text}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** RFC 3261 §18.2.1 and RFC 3581 §4: records where the request really came from in its top Via. */
export function stampReceived(req: SipRequest, sourceHost: string, sourcePort: number): void {
  const parsed = req.topVia();
  if (parsed === undefined) return;
  const source = sourceHost.toLowerCase();
  const params = { ...parsed.params };
  if (params.rport === null) {
    params.rport = String(sourcePort);
    params.received = source;
  } else if (bareHost(parsed.host) !== source) {
    params.received = source;
  } else {
    return;
  }
  const via = { ...parsed, params };
  req.replaceTopVia(via, formatVia(via));
}

/** RFC 3261 §18.2.2 / RFC 3581 §4: where to send a response over an unreliable transport. The host is returned
 *  without IPv6 brackets, ready for a socket. Call after stampReceived. */
export function responseDestination(req: SipRequest): { host: string; port: number } | undefined {
  const via = req.topVia();
  if (via === undefined) return undefined;
  const { received, rport } = via.params;
  const port = rport ? parseDigits(rport) : undefined;
  return {
    host: bareHost(received ? received : via.host),
    port: port !== undefined && port >= 1 && port <= 65535 ? port : via.port ?? 5060,
  };
}

function bareHost(host: string): string {
  return host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host;
}
