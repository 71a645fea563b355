import { isToken, parseDigits } from './headers.js';
import { headerKey, SipRequest, SipResponse, type SipMessageAny } from './message.js';

export class SipParseError extends Error {
  override name = 'SipParseError';
}

const BAD_CONTENT_LENGTH = 'Bad Content-Length';
const MALFORMED_HEADER_LINE = 'Malformed header line';
const CR = 13;
const LF = 10;

/** Parses one complete message (a datagram or one framed stream message). Headers are only split into the
 *  header map here; structured values are parsed on demand by the helpers in headers.ts. */
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
  const message = parseHead(data.toString('utf8', headStart, headEnd));
  const available = data.length - bodyStart;
  const length = declaredLength(message, available);
  const bodyEnd = length === undefined ? data.length : bodyStart + length;
  if (bodyEnd > bodyStart) message.body = data.toString('utf8', bodyStart, bodyEnd);
  return message;
}

function parseText(data: string): SipMessageAny {
  const [headStart, headEnd, bodyStart] = splitHead(data);
  const message = parseHead(data.slice(headStart, headEnd));
  const rest = data.slice(bodyStart);
  // Content-Length counts bytes (RFC 3261 §20.14), not UTF-16 units.
  const available = rest === '' ? 0 : Buffer.byteLength(rest);
  const length = declaredLength(message, available);
  if (length === undefined || length === available) message.body = rest;
  else if (available === rest.length) message.body = rest.slice(0, length);
  else message.body = Buffer.from(rest).toString('utf8', 0, length);
  return message;
}

/** Body length in bytes to honour, or undefined for "the rest": Content-Length absent (allowed on UDP) or unusable.
 *  Records "Bad Content-Length" when it is not a non-negative integer, lines disagree, or it exceeds the bytes present.
 *  Extra bytes beyond Content-Length are ignored (RFC 3261 §18.3). */
function declaredLength(message: SipMessageAny, available: number): number | undefined {
  const values = message.headers.get('content-length');
  if (values === undefined) return undefined;
  const length = parseDigits(values[0]);
  if (length === undefined || length > available || values.some((value) => value !== values[0])) {
    recordProblem(message, BAD_CONTENT_LENGTH);
    return undefined;
  }
  return length;
}

function recordProblem(message: SipMessageAny, problem: string): void {
  if (message.problem === undefined) message.problem = problem;
}

/** Start line and header lines (without the blank line); the head starts with the start line. */
function parseHead(head: string): SipMessageAny {
  let lineEnd = head.indexOf('\n');
  if (lineEnd === -1) lineEnd = head.length;
  const message = parseStartLine(head.slice(0, contentEnd(head, 0, lineEnd)));
  const headers = message.headers;
  let lastValues: string[] | undefined;
  let position = lineEnd + 1;
  while (position < head.length) {
    lineEnd = head.indexOf('\n', position);
    if (lineEnd === -1) lineEnd = head.length;
    const end = contentEnd(head, position, lineEnd);
    const first = head.charCodeAt(position);
    if (first === 32 || first === 9) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header value.
      const continuation = head.slice(position, end).trim();
      if (lastValues === undefined) recordProblem(message, MALFORMED_HEADER_LINE);
      else if (continuation !== '') {
        const last = lastValues.length - 1;
        lastValues[last] = lastValues[last] === '' ? continuation : `${lastValues[last]} ${continuation}`;
      }
    } else if (end > position) {
      let colon = head.indexOf(':', position);
      if (colon >= end) colon = -1;
      let nameEnd = colon;
      while (nameEnd > position && isWhitespace(head.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd <= position) {
        recordProblem(message, MALFORMED_HEADER_LINE);
        lastValues = undefined;
      } else {
        const key = headerKey(head.slice(position, nameEnd));
        const value = head.slice(colon + 1, end).trim();
        lastValues = headers.get(key);
        if (lastValues === undefined) headers.set(key, (lastValues = [value]));
        else lastValues.push(value);
      }
    }
    position = lineEnd + 1;
  }
  return message;
}

/** End of a line's content: `lineEnd` (the LF or end of text) minus a preceding CR. */
function contentEnd(text: string, lineStart: number, lineEnd: number): number {
  return lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
}

function isLineBreak(code: number): boolean {
  return code === CR || code === LF;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9;
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
