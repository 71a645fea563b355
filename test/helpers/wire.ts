// Parsing of what the server puts on the wire. SIP messages go through sip.js's parser, PIDF bodies through
// fast-xml-parser, so the integration tests never rely on the server's own parsing code.
import { Grammar, IncomingRequestMessage, LoggerFactory, Parser } from 'sip.js/lib/core/index.js';
import type { IncomingResponseMessage } from 'sip.js/lib/core/index.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const loggerFactory = new LoggerFactory();
loggerFactory.builtinEnabled = false;
const parserLogger = loggerFactory.getLogger('itest.wire');

export interface RemoteAddress {
  address: string;
  port: number;
}

/** One SIP message received from the server, with accessors for what the tests assert on. */
export class SipMessage {
  constructor(
    readonly raw: string,
    private readonly parsed: IncomingRequestMessage | IncomingResponseMessage,
    readonly source: RemoteAddress,
  ) {}

  get isRequest(): boolean {
    return this.parsed instanceof IncomingRequestMessage;
  }

  /** The request method, or for a response the method named in its CSeq. */
  get method(): string {
    return this.parsed.method;
  }

  /** The Request-URI exactly as written on the request line. */
  get requestUri(): string | undefined {
    return this.isRequest ? this.raw.slice(0, this.raw.indexOf('\r\n')).split(' ')[1] : undefined;
  }

  get status(): number | undefined {
    return this.parsed instanceof IncomingRequestMessage ? undefined : this.parsed.statusCode;
  }

  get reason(): string | undefined {
    return this.parsed instanceof IncomingRequestMessage ? undefined : this.parsed.reasonPhrase;
  }

  get callId(): string | undefined {
    return this.header('Call-ID');
  }

  get cseq(): { seq: number; method: string } | undefined {
    const value = this.header('CSeq');
    const match = value === undefined ? null : /^(\d+)\s+(\S+)$/.exec(value);
    return match ? { seq: Number(match[1]), method: match[2] } : undefined;
  }

  get fromTag(): string | undefined {
    return this.parsed.fromTag ?? undefined;
  }

  get toTag(): string | undefined {
    return this.parsed.toTag ?? undefined;
  }

  /** The From URI, normalised by sip.js so it compares with {@link normaliseUri}. */
  get fromUri(): string | undefined {
    return this.parsed.from?.uri.toString();
  }

  get toUri(): string | undefined {
    return this.parsed.to?.uri.toString();
  }

  get body(): string {
    return this.parsed.body ?? '';
  }

  /** First value of a header (full or compact name), undefined when absent. */
  header(name: string): string | undefined {
    return this.headerRows(name)[0];
  }

  /** Every row of a header, in order, as written. */
  headerRows(name: string): string[] {
    const compact = COMPACT_FORMS[name.toLowerCase()];
    const rows = this.parsed.getHeaders(name);
    return rows.length > 0 || compact === undefined ? rows : this.parsed.getHeaders(compact);
  }

  /** Every value of a list header (rows split at top-level commas), in order. */
  headerValues(name: string): string[] {
    return this.headerRows(name).flatMap(splitHeaderList);
  }

  hasHeader(name: string): boolean {
    return this.headerRows(name).length > 0;
  }
}

// Compact forms (RFC 3261 §7.3.3, RFC 6665 §8.2) that sip.js does not map to the full name itself.
const COMPACT_FORMS: Record<string, string> = {
  'event': 'o',
  'allow-events': 'u',
  'supported': 'k',
};

/** Parses one complete SIP message; throws with the raw text when sip.js refuses it. */
export function parseSipMessage(raw: string, source: RemoteAddress): SipMessage {
  const parsed = parseWithSipJs(raw) ?? parseWithMalformedEchoes(raw);
  if (parsed === undefined) {
    throw new Error(`unparsable SIP message from ${source.address}:${source.port}:\n${raw.slice(0, 2000)}`);
  }
  return new SipMessage(raw, parsed, source);
}

function parseWithSipJs(raw: string): IncomingRequestMessage | IncomingResponseMessage | undefined {
  try {
    return Parser.parseMessage(raw, parserLogger);
  } catch {
    // sip.js throws (rather than reporting) on a response whose CSeq it cannot parse.
    return undefined;
  }
}

// Response rows copied from the request (RFC 3261 §8.2.6.2), with the sip.js grammar rule that checks them.
const ECHOED_ROWS: Array<[RegExp, string]> = [
  [/^(?:From|f)[ \t]*:[ \t]*(.*)\r\n/im, 'From'],
  [/^(?:To|t)[ \t]*:[ \t]*(.*)\r\n/im, 'To'],
  [/^CSeq[ \t]*:[ \t]*(.*)\r\n/im, 'CSeq'],
];

/**
 * A response to a malformed request (say, a truncated From) correctly echoes the malformed rows, which the sip.js
 * grammar rejects: parse without those rows and keep their raw values.
 */
function parseWithMalformedEchoes(raw: string): IncomingRequestMessage | IncomingResponseMessage | undefined {
  if (!raw.startsWith('SIP/2.0 ')) return undefined;
  let text = raw;
  const malformed: Array<[string, string]> = [];
  for (const [row, rule] of ECHOED_ROWS) {
    const match = row.exec(text);
    if (match !== null && Grammar.parse(match[1], rule) === -1) {
      malformed.push([rule, match[1]]);
      text = text.replace(row, '');
    }
  }
  const parsed = malformed.length > 0 ? parseWithSipJs(text) : undefined;
  for (const [name, value] of malformed) parsed?.addHeader(name, value);
  return parsed;
}

/** Splits a header value at commas that are not inside quotes or angle brackets. */
function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((part) => part.length > 0);
}

/** A URI in sip.js's normal form (default parts dropped, case normalised), for comparing URIs. */
export function normaliseUri(uri: string): string {
  const parsed = Grammar.URIParse(uri);
  if (parsed === undefined) throw new Error(`not a SIP URI: ${uri}`);
  return parsed.toString();
}

/** The URI inside a name-addr or addr-spec header value (To, From, Contact, Route). */
export function uriOf(headerValue: string): string {
  const open = headerValue.indexOf('<');
  if (open >= 0) return headerValue.slice(open + 1, headerValue.indexOf('>', open));
  return headerValue.split(';')[0].trim();
}

export interface SubscriptionState {
  state: string;
  expires?: number;
  reason?: string;
}

/** RFC 6665 §8.2.3 Subscription-State, parsed by the sip.js grammar. */
export function subscriptionState(message: SipMessage): SubscriptionState {
  const value = message.header('Subscription-State');
  if (value === undefined) throw new Error('message has no Subscription-State header');
  const parsed: unknown = Grammar.parse(value, 'Subscription_State');
  if (parsed === -1 || typeof parsed !== 'object' || parsed === null) {
    throw new Error(`malformed Subscription-State: ${value}`);
  }
  const { state, expires, reason } = parsed as { state: string; expires?: number; reason?: string };
  return { state: state.toLowerCase(), expires, reason: reason?.toLowerCase() };
}

export interface EventHeader {
  event: string;
  params: Record<string, string>;
}

/** RFC 6665 §8.2.1 Event header, parsed by the sip.js grammar. */
export function eventHeader(message: SipMessage): EventHeader {
  const value = message.header('Event');
  if (value === undefined) throw new Error('message has no Event header');
  const parsed: unknown = Grammar.parse(value, 'Event');
  if (parsed === -1 || typeof parsed !== 'object' || parsed === null) throw new Error(`malformed Event: ${value}`);
  const { event, params } = parsed as { event: string; params?: Record<string, string> };
  return { event, params: params ?? {} };
}

export interface ViaValue {
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  rport?: string | null;
  received?: string;
}

/** One Via value (RFC 3261 §20.42) parsed by the sip.js grammar. */
export function parseVia(value: string): ViaValue {
  const parsed: unknown = Grammar.parse(value, 'Via');
  if (parsed === -1 || typeof parsed !== 'object' || parsed === null) throw new Error(`malformed Via: ${value}`);
  return parsed as ViaValue;
}

/**
 * Cuts a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3). Bare CRLFs between messages are
 * RFC 5626 §4.4.1 keep-alive pongs and are reported separately.
 */
export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onMessage: (raw: string) => void,
    private readonly onPong: () => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      while (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) {
        this.buffer = this.buffer.subarray(2);
        this.onPong();
      }
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.buffer.subarray(0, headerEnd).toString('latin1');
      const length = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
      const total = headerEnd + 4 + (length ? Number(length[1]) : 0);
      if (this.buffer.length < total) return;
      const message = this.buffer.subarray(0, total).toString('utf8');
      this.buffer = this.buffer.subarray(total);
      this.onMessage(message);
    }
  }
}

export interface DigiumPresence {
  type?: string;
  subtype?: string;
  text: string;
}

export interface PidfTuple {
  id: string;
  basic?: string;
  contact?: string;
  contactPriority?: string;
  notes: string[];
  digium?: DigiumPresence;
}

export interface PidfDocument {
  /** Namespace of the root element; RFC 3863 requires urn:ietf:params:xml:ns:pidf. */
  namespace?: string;
  entity: string;
  /** <note> elements directly under <presence>. */
  notes: string[];
  tuples: PidfTuple[];
}

type XmlNode = Record<string, unknown>;

const pidfParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  alwaysCreateTextNode: true,
  isArray: (tagName) => tagName === 'tuple' || tagName === 'note' || tagName === 'contact',
});

const namespaceParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });

/** Parses an RFC 3863 PIDF document; throws when it is not well-formed XML or has no <presence> root. */
export function parsePidf(body: string): PidfDocument {
  const validation = XMLValidator.validate(body);
  if (validation !== true) throw new Error(`PIDF body is not well-formed XML: ${validation.err.msg}\n${body}`);
  const presence = (pidfParser.parse(body) as XmlNode).presence as XmlNode | undefined;
  if (presence === undefined) throw new Error(`PIDF body has no <presence> root:\n${body}`);
  return {
    namespace: rootNamespace(body),
    entity: String(presence['@_entity'] ?? ''),
    notes: texts(presence.note),
    tuples: asNodes(presence.tuple).map(parseTuple),
  };
}

function rootNamespace(body: string): string | undefined {
  const document = namespaceParser.parse(body) as XmlNode;
  const rootName = Object.keys(document).find((key) => key === 'presence' || key.endsWith(':presence'));
  if (rootName === undefined) return undefined;
  const root = document[rootName] as XmlNode;
  const prefix = rootName.includes(':') ? `:${rootName.split(':')[0]}` : '';
  const namespace = root[`@_xmlns${prefix}`];
  return typeof namespace === 'string' ? namespace : undefined;
}

function parseTuple(tuple: XmlNode): PidfTuple {
  const status = (tuple.status ?? {}) as XmlNode;
  const contact = asNodes(tuple.contact)[0];
  const digium = status.digium_presence as XmlNode | undefined;
  return {
    id: String(tuple['@_id'] ?? ''),
    basic: text(status.basic),
    contact: contact === undefined ? undefined : text(contact),
    contactPriority: contact?.['@_priority'] as string | undefined,
    notes: texts(tuple.note),
    digium:
      digium === undefined
        ? undefined
        : {
            type: digium['@_type'] as string | undefined,
            subtype: digium['@_subtype'] as string | undefined,
            text: text(digium) ?? '',
          },
  };
}

function asNodes(value: unknown): XmlNode[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as XmlNode[];
}

function text(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const content = (value as XmlNode)['#text'];
  return content === undefined ? '' : String(content);
}

function texts(value: unknown): string[] {
  return asNodes(value).map((node) => text(node) ?? '');
}
