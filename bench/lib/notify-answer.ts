// The watcher process's answer to a NOTIFY, made with as little work as a correct 200 allows: the request's header
// section is read once as latin1 (one byte per character, so any bytes come back unchanged), and the 200 is a fixed
// status line, the request's own Via, From, To, Call-ID and CSeq lines copied as they are (RFC 3261 §8.2.6.2) and a
// fixed Content-Length, encoded back as latin1. Anything unusual (not a NOTIFY, folded or bare-LF lines, a header
// missing) returns undefined and takes the full parser.

const STATUS_LINE = 'SIP/2.0 200 OK\r\n';
const TRAILER = 'Content-Length: 0\r\n\r\n';
const NOTIFY_PREFIX = 'NOTIFY ';

export interface NotifyAnswer {
  /** The 200, ready for socket.send. */
  response: Buffer;
  callId: string;
  /** The CSeq number; NaN when it is not a number. */
  cseq: number;
}

/** Copied headers by lower-case name, full and compact forms (RFC 3261 §7.3.3). */
const COPIED: ReadonlyMap<string, number> = new Map([
  ['via', 1], ['v', 1], ['from', 2], ['f', 2], ['to', 3], ['t', 3], ['call-id', 4], ['i', 4], ['cseq', 5],
]);

export function answerNotify(data: Buffer): NotifyAnswer | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = data.toString('latin1', 0, headEnd + 2);
  if (!head.startsWith(NOTIFY_PREFIX)) return undefined;
  let response = STATUS_LINE;
  let found = 0;
  let callId: string | undefined;
  let cseq = NaN;
  let lineStart = head.indexOf('\r\n') + 2;
  while (lineStart < head.length) {
    const lineEnd = head.indexOf('\r\n', lineStart);
    const first = head.charCodeAt(lineStart);
    // A folded continuation line or a bare LF inside the line: leave it to the full parser.
    if (first === 32 || first === 9) return undefined;
    const newline = head.indexOf('\n', lineStart);
    if (newline !== lineEnd + 1) return undefined;
    const colon = head.indexOf(':', lineStart);
    if (colon === -1 || colon > lineEnd) return undefined;
    const which = COPIED.get(head.slice(lineStart, colon).trimEnd().toLowerCase());
    if (which !== undefined) {
      response += head.slice(lineStart, lineEnd + 2);
      found |= 1 << which;
      if (which === 4) callId = head.slice(colon + 1, lineEnd).trim();
      else if (which === 5) cseq = parseInt(head.slice(colon + 1, lineEnd).trim(), 10);
    }
    lineStart = lineEnd + 2;
  }
  // Via, From, To, Call-ID and CSeq must all be there.
  if (found !== 0b111110 || callId === undefined) return undefined;
  return { response: Buffer.from(response + TRAILER, 'latin1'), callId, cseq };
}
