import { BAD_CONTENT_LENGTH, contentEnd, declaredLength, splitDatagram, splitHeaderLines } from './header-lines.js';
import { isToken, parseDigits } from './headers.js';
import { SipRequest, SipResponse, type SipMessageAny } from './message.js';

export class SipParseError extends Error {
  override name = 'SipParseError';
}

const CR = 13;
const LF = 10;

/** Parses one complete message (a datagram or one framed stream message). Headers are only split into the
 *  header map here (for a received response, only when first needed); structured values are parsed on demand by the
 *  helpers in headers.ts. */
export function parseMessage(data: Buffer | string): SipMessageAny {
  return typeof data === 'string' ? parseText(data) : parseBuffer(data);
}

/** [start, end] of the header section and start of the body. CRLFs before the start line are skipped (RFC 3261
 *  §7.5); the section ends at the first CRLFCRLF, else at the first LFLF (bare-LF line ends are tolerated); without a
 *  blank line the whole input is the header section. */
function splitHead(data: Buffer | string): [number, number, number] {
  let start = 0;
  if (typeof data === 'string') while (start < data.length && isLineBreak(data.charCodeAt(start))) start++;
  else while (start < data.length && isLineBreak(data[start])) start++;
  if (start === data.length) throw new SipParseError('Empty message');
  const crlf = data.indexOf('\r\n\r\n', start);
  if (crlf !== -1) return [start, crlf, crlf + 4];
  const lf = data.indexOf('\n\n', start);
  return lf === -1 ? [start, data.length, data.length] : [start, lf, lf + 2];
}

function parseBuffer(data: Buffer): SipMessageAny {
  const [headStart, headEnd, bodyStart] = splitHead(data);
  const head = data.toString('utf8', headStart, headEnd);
  const linesStart = startLineEnd(head);
  const message = parseStartLine(head.slice(0, contentEnd(head, 0, linesStart - 1)));
  if (message instanceof SipResponse) {
    // A response is matched by its top Via and CSeq alone (§17.1.3); the rest is split only if someone asks.
    message.deferHeaderLines(data, head, linesStart, bodyStart);
    return message;
  }
  const { body, bytes, problem } = splitDatagram(data, head, linesStart, bodyStart, message.headers);
  message.problem = problem;
  message.receivedBody(body, bytes);
  return message;
}

function parseText(data: string): SipMessageAny {
  const [headStart, headEnd, bodyStart] = splitHead(data);
  const head = data.slice(headStart, headEnd);
  const linesStart = startLineEnd(head);
  const message = parseStartLine(head.slice(0, contentEnd(head, 0, linesStart - 1)));
  const problem = splitHeaderLines(head, linesStart, message.headers);
  const rest = data.slice(bodyStart);
  // Content-Length counts bytes (RFC 3261 §20.14), not UTF-16 units.
  const available = rest === '' ? 0 : Buffer.byteLength(rest);
  const { length, bad } = declaredLength(message.headers, available);
  message.problem = problem ?? (bad ? BAD_CONTENT_LENGTH : undefined);
  if (length === undefined || length === available) message.body = rest;
  else if (available === rest.length) message.body = rest.slice(0, length);
  else message.body = Buffer.from(rest).toString('utf8', 0, length);
  return message;
}

/** Where the header lines start: just past the start line's LF (or the end of a head that is only a start line). */
function startLineEnd(head: string): number {
  const lineEnd = head.indexOf('\n');
  return lineEnd === -1 ? head.length + 1 : lineEnd + 1;
}

function isLineBreak(code: number): boolean {
  return code === CR || code === LF;
}

/** RFC 3261 §7.1 Request-Line / §7.2 Status-Line. */
function parseStartLine(line: string): SipMessageAny {
  if (line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    if (line.slice(0, 8).toUpperCase() !== 'SIP/2.0 ') throw new SipParseError('Unsupported SIP version');
    const code = line.slice(8, 11);
    const status = parseDigits(code);
    if (code.length !== 3 || status === undefined || status < 100 || status > 699 || (line.length > 11 && line[11] !== ' ')) {
      throw new SipParseError('Malformed status line');
    }
    return new SipResponse(status, line.slice(12));
  }
  const firstSpace = line.indexOf(' ');
  const lastSpace = line.lastIndexOf(' ');
  if (firstSpace <= 0 || lastSpace === firstSpace) throw new SipParseError('Malformed start line');
  const method = line.slice(0, firstSpace);
  const uri = line.slice(firstSpace + 1, lastSpace);
  if (!isToken(method) || uri === '' || uri.indexOf(' ') !== -1) throw new SipParseError('Malformed start line');
  if (line.slice(lastSpace + 1).toUpperCase() !== 'SIP/2.0') throw new SipParseError('Unsupported SIP version');
  return new SipRequest(method, uri);
}
