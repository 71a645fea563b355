import { parseVia, splitHeaderValues, type Via } from './headers.js';

/** RFC 3261 §7.3.3 compact forms (plus RFC 3515, 3892, 3265, 4028, 3841, 4474). */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
  k: 'supported', o: 'event', u: 'allow-events', e: 'content-encoding', s: 'subject', r: 'refer-to',
  b: 'referred-by', x: 'session-expires', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition',
  y: 'identity',
};

/** Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1), so getAll() returns each element. */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'accept', 'accept-encoding', 'accept-language', 'allow', 'supported',
  'allow-events', 'require', 'proxy-require', 'unsupported', 'content-encoding', 'path',
]);

/** Canonical header key: lower-case full name, compact forms expanded. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? COMPACT_FORMS[lower] ?? lower : lower;
}

export abstract class SipMessage {
  /** Lower-case full header name → each header line's trimmed (and unfolded) value, in order of appearance. */
  readonly headers: Map<string, string[]>;
  body: string;
  /** Framing or header-section problem found while parsing (e.g. "Bad Content-Length"); checkRequest turns it into 400. */
  problem?: string;
  /** The parsed top Via: undefined until asked, null when missing or malformed. */
  private topViaCache: Via | null | undefined;

  protected constructor(headers: Map<string, string[]>, body: string) {
    this.headers = headers;
    this.body = body;
  }

  /** First value of a header; name is case-insensitive and may be a compact form. */
  get(name: string): string | undefined {
    const values = this.headers.get(headerKey(name));
    return values === undefined ? undefined : values[0];
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
      const first = this.headers.get('via')?.[0];
      const element = first === undefined ? undefined : splitHeaderValues(first)[0];
      this.topViaCache = (element === undefined ? undefined : parseVia(element)) ?? null;
    }
    return this.topViaCache ?? undefined;
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
