import { headerKey, scanHeaderValue, splitDatagram } from './header-lines.js';
import { parseVia, splitHeaderValues, topViaBranch, type Via } from './headers.js';

/** Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1), so getAll() returns each element. */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'accept', 'accept-encoding', 'accept-language', 'allow', 'supported',
  'allow-events', 'require', 'proxy-require', 'unsupported', 'content-encoding', 'path',
]);

export { headerKey };

export abstract class SipMessage {
  private readonly headerMap: Map<string, string[]>;
  private bodyText: string;
  /** The received body's bytes (a slice of the datagram), kept for bodies that are not text; see rawBody. */
  private bodyBytes: Buffer | undefined;
  private problemText: string | undefined;
  /**
   * A received datagram whose header lines are not split into the map yet (see deferHeaderLines): the datagram, its
   * header section as text, where the lines after the start line begin and where the body begins.
   */
  private deferredData: Buffer | undefined;
  private deferredHead = '';
  private deferredLinesStart = 0;
  private deferredBodyStart = 0;
  /** The parsed top Via: undefined until asked, null when missing or malformed. */
  private topViaCache: Via | null | undefined;

  protected constructor(headers: Map<string, string[]>, body: string) {
    this.headerMap = headers;
    this.bodyText = body;
  }

  /** Lower-case full header name → each header line's trimmed (and unfolded) value, in order of appearance. */
  get headers(): Map<string, string[]> {
    if (this.deferredData !== undefined) this.splitDeferred();
    return this.headerMap;
  }

  get body(): string {
    if (this.deferredData !== undefined) this.splitDeferred();
    return this.bodyText;
  }

  set body(body: string) {
    if (this.deferredData !== undefined) this.splitDeferred();
    this.bodyText = body;
    this.bodyBytes = undefined;
  }

  /**
   * The body's bytes as they arrived: a compressed body (`Content-Encoding: deflate`, RFC 3261 §20.12) is not UTF-8
   * text, so `body` cannot give it back. For a message built in code, the body text's UTF-8 bytes.
   */
  get rawBody(): Buffer {
    if (this.deferredData !== undefined) this.splitDeferred();
    return this.bodyBytes ?? Buffer.from(this.bodyText, 'utf8');
  }

  /** For the parser: the body as received, as text and as bytes. */
  receivedBody(text: string, bytes: Buffer): void {
    this.body = text;
    this.bodyBytes = bytes;
  }

  /** Framing or header-section problem found while parsing (e.g. "Bad Content-Length"); checkRequest turns it into 400. */
  get problem(): string | undefined {
    if (this.deferredData !== undefined) this.splitDeferred();
    return this.problemText;
  }

  set problem(problem: string | undefined) {
    if (this.deferredData !== undefined) this.splitDeferred();
    this.problemText = problem;
  }

  /**
   * For the parser: the header lines of `head` from `linesStart` (and the body of `data` from `bodyStart`) are split
   * only when first needed. get() of a single header scans the lines without splitting them; headers, getAll(), has(),
   * body and problem split them all, with the same result as an immediate split.
   */
  deferHeaderLines(data: Buffer, head: string, linesStart: number, bodyStart: number): void {
    this.deferredData = data;
    this.deferredHead = head;
    this.deferredLinesStart = linesStart;
    this.deferredBodyStart = bodyStart;
  }

  private splitDeferred(): void {
    const data = this.deferredData!;
    this.deferredData = undefined;
    const { body, bytes, problem } = splitDatagram(data, this.deferredHead, this.deferredLinesStart, this.deferredBodyStart, this.headerMap);
    this.problemText = problem;
    this.bodyText = body;
    this.bodyBytes = bytes;
    this.deferredHead = '';
  }

  /** First value of the header with canonical key `key`. */
  private first(key: string): string | undefined {
    if (this.deferredData !== undefined) {
      const value = scanHeaderValue(this.deferredHead, this.deferredLinesStart, key);
      if (value !== null) return value;
      this.splitDeferred();
    }
    const values = this.headerMap.get(key);
    return values === undefined ? undefined : values[0];
  }

  /** First value of a header; name is case-insensitive and may be a compact form. */
  get(name: string): string | undefined {
    return this.first(headerKey(name));
  }

  /** All values; for list headers each comma-separated element is its own entry. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const values = this.headers.get(key);
    if (values === undefined) return [];
    if (!LIST_HEADERS.has(key)) return values.slice();
    const elements: string[] = [];
    for (const value of values) {
      for (const element of splitHeaderValues(value)) elements.push(element);
    }
    return elements;
  }

  has(name: string): boolean {
    return this.headers.has(headerKey(name));
  }

  /** The first Via element, parsed once: the transaction layer, the response path and validation all read it. */
  topVia(): Via | undefined {
    if (this.topViaCache === undefined) {
      const first = this.first('via');
      const element = first === undefined ? undefined : splitHeaderValues(first)[0];
      this.topViaCache = (element === undefined ? undefined : parseVia(element)) ?? null;
    }
    return this.topViaCache ?? undefined;
  }

  /** The branch of the top Via (RFC 3261 §17.1.3 matching), without parsing the Via when it was not parsed yet. */
  topViaBranch(): string | undefined {
    if (this.topViaCache === undefined) {
      const first = this.first('via');
      if (first === undefined) return undefined;
      const branch = topViaBranch(first);
      if (branch !== null) return branch === '' ? undefined : branch;
    }
    const branch = this.topVia()?.params['branch'];
    return branch === null ? undefined : branch;
  }

  /** Replaces the top Via element (RFC 3261 §18.2.1 stamping) in the header lines and the parsed copy. */
  replaceTopVia(via: Via, text: string): void {
    const lines = this.headers.get('via');
    if (lines === undefined) return;
    const elements = splitHeaderValues(lines[0]!);
    elements[0] = text;
    lines[0] = elements.join(', ');
    this.topViaCache = via;
  }
}

export class SipRequest extends SipMessage {
  method: string;
  /** Raw Request-URI text. */
  uri: string;

  constructor(method: string, uri: string, headers: Map<string, string[]> = new Map(), body = '') {
    super(headers, body);
    this.method = method;
    this.uri = uri;
  }
}

export class SipResponse extends SipMessage {
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers: Map<string, string[]> = new Map(), body = '') {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }
}

export type SipMessageAny = SipRequest | SipResponse;
