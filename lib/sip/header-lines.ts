/**
 * The header section of a message as lines (RFC 3261 §7.3): header names, the split into the header map, a scan for
 * one header without the split, and the body length Content-Length allows. Shared by the parser (which splits
 * requests at once) and SipMessage (which splits a received response only when something asks for more than its top
 * Via and CSeq: see parser.ts).
 */
import { parseDigits } from './headers.js';

/** RFC 3261 §7.3.3 compact forms (plus RFC 3515, 3892, 3265, 4028, 3841, 4474). */
const COMPACT_FORMS: ReadonlyMap<string, string> = new Map([
  ['v', 'via'], ['f', 'from'], ['t', 'to'], ['i', 'call-id'], ['m', 'contact'], ['l', 'content-length'], ['c', 'content-type'],
  ['k', 'supported'], ['o', 'event'], ['u', 'allow-events'], ['e', 'content-encoding'], ['s', 'subject'], ['r', 'refer-to'],
  ['b', 'referred-by'], ['x', 'session-expires'], ['a', 'accept-contact'], ['j', 'reject-contact'], ['d', 'request-disposition'],
  ['y', 'identity'],
]);

/** Full name → its compact form. */
const COMPACT_OF: ReadonlyMap<string, string> = new Map([...COMPACT_FORMS].map(([compact, full]) => [full, compact]));

export const BAD_CONTENT_LENGTH = 'Bad Content-Length';
export const MALFORMED_HEADER_LINE = 'Malformed header line';
const CR = 13;

/** Canonical header key: lower-case full name, compact forms expanded. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? COMPACT_FORMS.get(lower) ?? lower : lower;
}

/** End of a line's content: `lineEnd` (the LF or end of text) minus a preceding CR. */
export function contentEnd(text: string, lineStart: number, lineEnd: number): number {
  return lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

/** End of the header name on the line [position, end): the colon minus trailing whitespace; -1 when there is none. */
function nameEnd(head: string, position: number, end: number): number {
  const colon = head.indexOf(':', position);
  if (colon === -1 || colon >= end) return -1;
  let at = colon;
  while (at > position && isWhitespace(head.charCodeAt(at - 1))) at--;
  return at > position ? at : -1;
}

/**
 * Splits the header lines of `head` from `position` (just past the start line) into `headers`: key → each line's
 * trimmed value, continuation lines (§7.3.1) unfolded into the value before. Returns the first problem, if any.
 */
export function splitHeaderLines(head: string, position: number, headers: Map<string, string[]>): string | undefined {
  let problem: string | undefined;
  let lastValues: string[] | undefined;
  while (position < head.length) {
    let lineEnd = head.indexOf('\n', position);
    if (lineEnd === -1) lineEnd = head.length;
    const end = contentEnd(head, position, lineEnd);
    const first = head.charCodeAt(position);
    if (isWhitespace(first)) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header value.
      const continuation = head.slice(position, end).trim();
      if (lastValues === undefined) problem ??= MALFORMED_HEADER_LINE;
      else if (continuation !== '') {
        const last = lastValues.length - 1;
        lastValues[last] = lastValues[last] === '' ? continuation : `${lastValues[last]} ${continuation}`;
      }
    } else if (end > position) {
      const name = nameEnd(head, position, end);
      if (name === -1) {
        problem ??= MALFORMED_HEADER_LINE;
        lastValues = undefined;
      } else {
        const key = headerKey(head.slice(position, name));
        const value = head.slice(head.indexOf(':', name) + 1, end).trim();
        lastValues = headers.get(key);
        if (lastValues === undefined) headers.set(key, (lastValues = [value]));
        else lastValues.push(value);
      }
    }
    position = lineEnd + 1;
  }
  return problem;
}

/**
 * The first value of header `key` (a canonical key) among the lines of `head` from `position`, as splitHeaderLines
 * would give it, without splitting the others: undefined when absent, null when that line is continued on the next
 * (then only the split gives the unfolded value).
 */
export function scanHeaderValue(head: string, position: number, key: string): string | undefined | null {
  const full = key.charCodeAt(0);
  const compact = COMPACT_OF.get(key)?.charCodeAt(0) ?? full;
  let found: string | undefined;
  while (position < head.length) {
    let lineEnd = head.indexOf('\n', position);
    if (lineEnd === -1) lineEnd = head.length;
    const end = contentEnd(head, position, lineEnd);
    const first = head.charCodeAt(position);
    if (found !== undefined) {
      if (isWhitespace(first)) return null;
      // Blank lines do not end a header value in splitHeaderLines; any other line does.
      if (end > position) return found;
    } else if (end > position && !isWhitespace(first)) {
      // Cheap filter on the first letter (either case) before the name is compared.
      const letter = first | 0x20;
      if (letter === full || letter === compact) {
        const name = nameEnd(head, position, end);
        if (name !== -1 && nameIs(head, position, name, key)) {
          found = head.slice(head.indexOf(':', name) + 1, end).trim();
        }
      }
    }
    position = lineEnd + 1;
  }
  return found;
}

/** Whether head[start, end) names `key` (a canonical key, lower case), in any case or as its compact form; nothing is
 *  allocated. */
function nameIs(head: string, start: number, end: number, key: string): boolean {
  const length = end - start;
  // One letter: a compact form, or a one-letter name (single characters are V8's cached strings, not allocations).
  if (length === 1) return headerKey(head[start]!) === key;
  if (length !== key.length) return false;
  for (let i = 0; i < length; i++) {
    const code = head.charCodeAt(start + i);
    // Beyond ASCII, lower-casing is Unicode's (the Kelvin sign becomes 'k'): leave it to headerKey.
    if (code >= 128) return headerKey(head.slice(start, end)) === key;
    const lower = code >= 65 && code <= 90 ? code | 0x20 : code;
    if (lower !== key.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Body length in bytes to honour, or undefined for "the rest": Content-Length absent (allowed on UDP) or unusable
 * (then `bad` is true: not a non-negative integer, lines disagree, or more than the bytes present). Extra bytes beyond
 * Content-Length are ignored (RFC 3261 §18.3).
 */
export function declaredLength(headers: Map<string, string[]>, available: number): { length: number | undefined; bad: boolean } {
  const values = headers.get('content-length');
  if (values === undefined) return { length: undefined, bad: false };
  const length = parseDigits(values[0]!);
  if (length === undefined || length > available || values.some((value) => value !== values[0])) {
    return { length: undefined, bad: true };
  }
  return { length, bad: false };
}

/**
 * Splits a datagram's header lines (of `head` from `linesStart`) into `headers` and cuts its body (from `bodyStart`)
 * as Content-Length allows; `problem` is the first header-section or framing problem.
 */
export function splitDatagram(
  data: Buffer, head: string, linesStart: number, bodyStart: number, headers: Map<string, string[]>,
): { body: string; bytes: Buffer; problem: string | undefined } {
  const problem = splitHeaderLines(head, linesStart, headers);
  const { length, bad } = declaredLength(headers, data.length - bodyStart);
  const bodyEnd = length === undefined ? data.length : bodyStart + length;
  const bytes = data.subarray(bodyStart, Math.max(bodyStart, bodyEnd));
  return { body: bytes.length > 0 ? bytes.toString('utf8') : '', bytes, problem: problem ?? (bad ? BAD_CONTENT_LENGTH : undefined) };
}
