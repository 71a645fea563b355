import { parseDigits } from './headers.js';
import { headerKey } from './message.js';

export interface FramerEvents {
  /** A whole message; or, for one over the size limit, only its head and the size it declared (its body is skipped). */
  message(raw: Buffer, declaredBytes?: number): void;
  keepAlive(): void;
  error(reason: string): void;
}

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from('\r\n\r\n');

/** Where the framer is: between messages (skipping CRLFs, spotting pings), in a header section, in a body, or in the
 *  body of a message too large to keep (read and dropped, so the stream stays framed). */
type Phase = 'between' | 'head' | 'body' | 'skip';

/** Next state of a matcher for "\r\n\r\n": the state counts the pattern bytes that the input seen so far ends with. */
function advance(matched: number, byte: number): number {
  if (byte === HEAD_END[matched]) return matched + 1;
  return byte === CR ? 1 : 0;
}

/** Matcher state after `bytes`: once three bytes have been seen, earlier ones cannot be part of a match in progress. */
function advanceOver(matched: number, bytes: Buffer): number {
  const from = Math.max(0, bytes.length - (HEAD_END.length - 1));
  let state = from === 0 ? matched : 0;
  for (let i = from; i < bytes.length; i++) state = advance(state, bytes[i]);
  return state;
}

/** Content-Length of a complete header section: 0 when absent (RFC 3261 §18.3 requires it on streams, so no body is
 *  assumed), undefined when it is not a non-negative integer. */
function bodyLength(head: Buffer): number | undefined {
  const text = head.toString('latin1');
  let lineStart = text.indexOf('\n') + 1;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const colon = text.indexOf(':', lineStart);
    if (colon !== -1 && colon < lineEnd && headerKey(text.slice(lineStart, colon).trim()) === 'content-length') {
      return parseDigits(text.slice(colon + 1, lineEnd).trim());
    }
    lineStart = lineEnd + 1;
  }
  return 0;
}

/** RFC 3261 §18.3 framing of a byte stream into messages, with RFC 5626 §3.5.1 CRLFCRLF keep-alive pings. Every
 *  byte is looked at a bounded number of times; chunks are kept (not copied) until their message is complete. */
export class StreamFramer {
  private phase: Phase = 'between';
  /** Bytes of "\r\n\r\n" matched at the end of what has been read (a ping between messages, or the head's end). */
  private matched = 0;
  private parts: Buffer[] = [];
  private buffered = 0;
  private messageLength = 0;
  private stopped = false;

  constructor(private readonly maxMessageSize: number, private readonly events: FramerEvents) {}

  /** Bytes of a message begun but not complete, held until it is. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      if (this.phase === 'between') offset = this.skipLineBreaks(chunk, offset);
      else if (this.phase === 'head') offset = this.readHead(chunk, offset);
      else if (this.phase === 'body') offset = this.readBody(chunk, offset);
      else offset = this.skipBody(chunk, offset);
    }
  }

  /** RFC 3261 §7.5: CRLFs before a start line are ignored; each CRLFCRLF among them is a keep-alive ping. */
  private skipLineBreaks(chunk: Buffer, offset: number): number {
    for (; offset < chunk.length; offset++) {
      const byte = chunk[offset];
      if (byte !== CR && byte !== LF) {
        this.phase = 'head';
        this.matched = 0;
        return offset;
      }
      this.matched = advance(this.matched, byte);
      if (this.matched === HEAD_END.length) {
        this.matched = 0;
        this.events.keepAlive();
      }
    }
    return offset;
  }

  private readHead(chunk: Buffer, offset: number): number {
    const part = chunk.subarray(offset);
    const end = this.headEndIn(part);
    if (end === -1) {
      this.append(part);
      this.matched = advanceOver(this.matched, part);
      if (this.buffered > this.maxMessageSize) this.fail('Message too large');
      return chunk.length;
    }
    this.append(part.subarray(0, end));
    this.matched = 0;
    const head = this.takeParts();
    const length = bodyLength(head);
    if (length === undefined) {
      // Framing is lost: hand the message over so it can be answered with 400, then give up on the stream.
      this.phase = 'between';
      this.events.message(head);
      this.fail('Bad Content-Length');
    } else if (head.length + length > this.maxMessageSize) {
      // RFC 3261 §18.3: the head is enough to answer 513; the body is skipped, not held, and the stream goes on.
      this.events.message(head, head.length + length);
      this.phase = length === 0 ? 'between' : 'skip';
      this.messageLength = length;
    } else if (length === 0) {
      this.phase = 'between';
      this.events.message(head);
    } else {
      this.phase = 'body';
      this.messageLength = head.length + length;
      this.append(head);
    }
    return offset + end;
  }

  /** Index in `part` just past a CRLFCRLF ending the head (possibly begun in earlier chunks), or -1. */
  private headEndIn(part: Buffer): number {
    const missing = HEAD_END.length - this.matched;
    if (this.matched > 0 && part.length >= missing && HEAD_END.compare(part, 0, missing, this.matched) === 0) {
      return missing;
    }
    const index = part.indexOf(HEAD_END);
    return index === -1 ? -1 : index + HEAD_END.length;
  }

  private readBody(chunk: Buffer, offset: number): number {
    const take = Math.min(this.messageLength - this.buffered, chunk.length - offset);
    this.append(chunk.subarray(offset, offset + take));
    if (this.buffered === this.messageLength) {
      this.phase = 'between';
      this.events.message(this.takeParts());
    }
    return offset + take;
  }

  private skipBody(chunk: Buffer, offset: number): number {
    const take = Math.min(this.messageLength, chunk.length - offset);
    this.messageLength -= take;
    if (this.messageLength === 0) this.phase = 'between';
    return offset + take;
  }

  private append(part: Buffer): void {
    this.parts.push(part);
    this.buffered += part.length;
  }

  private takeParts(): Buffer {
    const whole = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.buffered);
    this.parts = [];
    this.buffered = 0;
    return whole;
  }

  private fail(reason: string): void {
    this.stopped = true;
    this.parts = [];
    this.buffered = 0;
    this.events.error(reason);
  }
}
