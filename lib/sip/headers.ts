/** Structured views of SIP header values (RFC 3261 §20, §25). Each parser returns undefined instead of throwing. */

export type Params = Record<string, string | null>;

export interface NameAddr { display?: string; uri: string; params: Params }
export interface HostPort { host: string; port?: number }
export interface Via { transport: string; host: string; port?: number; params: Params }
export interface CSeq { seq: number; method: string }
export interface EventHeader { event: string; params: Params }
export interface MediaRange { type: string; params: Params }

const TOKEN = /^[-!%*_+`'~.0-9A-Za-z]+$/;
const MEDIA_TYPE = /^[-!%*_+`'~.0-9a-z]+\/[-!%*_+`'~.0-9a-z]+$/;
const HOSTNAME = /^[-_.0-9A-Za-z]+$/;
const IPV6_REFERENCE = /^\[[.:0-9A-Fa-f]+\]$/;
const URI_SCHEME = /^[A-Za-z][-+.0-9A-Za-z]*:/;
const QUOTE = 34;
const BACKSLASH = 92;
const MAX_CSEQ = 0xffffffff;

/** RFC 3261 §25.1 token. */
export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Lower-case scheme of an absolute URI ("SIP:bob@h" → 'sip'); undefined when the text does not start with one. */
export function uriScheme(text: string): string | undefined {
  return URI_SCHEME.test(text) ? text.slice(0, text.indexOf(':')).toLowerCase() : undefined;
}

/** Index of the quote closing the quoted-string opened at `open`, honouring backslash escapes; -1 if unterminated. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i++;
    else if (code === QUOTE) return i;
  }
  return -1;
}

/** Index of the first `char` outside quoted strings at or after `from`, or -1. */
function indexOutsideQuotes(text: string, char: string, from: number): number {
  let index = text.indexOf(char, from);
  let quote = text.indexOf('"', from);
  while (index !== -1 && quote !== -1 && quote < index) {
    const close = closingQuote(text, quote);
    if (close === -1) return -1;
    index = text.indexOf(char, close + 1);
    quote = text.indexOf('"', close + 1);
  }
  return index;
}

/** Comma split at top level (not inside quotes or <...>), elements trimmed, empty elements dropped. RFC 3261 §7.3.1 */
export function splitHeaderValues(value: string): string[] {
  if (value.indexOf(',') === -1) {
    const single = value.trim();
    return single === '' ? [] : [single];
  }
  const elements: string[] = [];
  let start = 0;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '"') {
      const close = closingQuote(value, i);
      if (close === -1) break;
      i = close;
    } else if (char === '<') inAngle = true;
    else if (char === '>') inAngle = false;
    else if (char === ',' && !inAngle) {
      const element = value.slice(start, i).trim();
      if (element !== '') elements.push(element);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') elements.push(last);
  return elements;
}

/** ";a=b;c" (leading ';' optional) → { a: 'b', c: null }. Names are lower-cased (RFC 3261 §7.3.1); values are
 *  kept as written, quoted values with their quotes, so they can be written back unchanged. */
export function parseParams(text: string): Params {
  const params: Params = {};
  const hasQuotes = text.indexOf('"') !== -1;
  let start = 0;
  while (start < text.length) {
    let end = hasQuotes ? indexOutsideQuotes(text, ';', start) : text.indexOf(';', start);
    if (end === -1) end = text.length;
    const equals = text.indexOf('=', start);
    const hasValue = equals !== -1 && equals < end;
    const name = text.slice(start, hasValue ? equals : end).trim().toLowerCase();
    // "__proto__" would replace the object's prototype instead of becoming a parameter.
    if (name !== '' && name !== '__proto__') params[name] = hasValue ? text.slice(equals + 1, end).trim() : null;
    start = end + 1;
  }
  return params;
}

export function formatParams(params: Params): string {
  let text = '';
  for (const name in params) {
    const value = params[name];
    text += value === null ? `;${name}` : `;${name}=${value}`;
  }
  return text;
}

/** RFC 3261 §25.1 hostport; host lower-cased (hosts compare case-insensitively), IPv6 references keep brackets. */
export function parseHostPort(text: string): HostPort | undefined {
  let hostEnd: number;
  if (text.charCodeAt(0) === 91 /* [ */) {
    hostEnd = text.indexOf(']') + 1;
    if (hostEnd === 0 || !IPV6_REFERENCE.test(text.slice(0, hostEnd))) return undefined;
  } else {
    hostEnd = text.indexOf(':');
    if (hostEnd === -1) hostEnd = text.length;
    if (!HOSTNAME.test(text.slice(0, hostEnd))) return undefined;
  }
  const host = text.slice(0, hostEnd).toLowerCase();
  if (hostEnd === text.length) return { host };
  if (text.charCodeAt(hostEnd) !== 58 /* : */) return undefined;
  const port = parsePort(text.slice(hostEnd + 1));
  return port === undefined ? undefined : { host, port };
}

/** 1*DIGIT → number; undefined for anything else (signs, spaces, exponents) or more than 15 digits. */
export function parseDigits(text: string): number | undefined {
  if (text.length === 0 || text.length > 15) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return undefined;
  }
  return Number(text);
}

function parsePort(text: string): number | undefined {
  const port = text.length > 5 ? undefined : parseDigits(text);
  return port !== undefined && port >= 1 && port <= 65535 ? port : undefined;
}

function isLinearWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

/** RFC 3261 §20.10: `"Bob" <sip:b@h>;tag=x`, `Bob <sip:b@h>`, `<sip:b@h>` or `sip:b@h;tag=x` (without angle
 *  brackets the parameters belong to the header, not the URI). */
export function parseNameAddr(value: string): NameAddr | undefined {
  const text = value.trim();
  let display: string | undefined;
  let searchFrom = 0;
  if (text.charCodeAt(0) === QUOTE) {
    const close = closingQuote(text, 0);
    if (close === -1) return undefined;
    const quoted = text.slice(1, close);
    display = quoted.indexOf('\\') === -1 ? quoted : quoted.replace(/\\(.)/g, '$1');
    searchFrom = close + 1;
  }
  const open = text.indexOf('<', searchFrom);
  let uri: string;
  let rest: string;
  if (open === -1) {
    if (display !== undefined) return undefined;
    const semicolon = text.indexOf(';');
    uri = semicolon === -1 ? text : text.slice(0, semicolon);
    rest = semicolon === -1 ? '' : text.slice(semicolon);
  } else {
    const before = text.slice(searchFrom, open).trim();
    if (display !== undefined && before !== '') return undefined;
    if (display === undefined && before !== '') display = before;
    const close = text.indexOf('>', open);
    if (close === -1) return undefined;
    uri = text.slice(open + 1, close).trim();
    rest = text.slice(close + 1).trim();
    if (rest !== '' && rest.charCodeAt(0) !== 59 /* ; */) return undefined;
  }
  if (uriScheme(uri) === undefined || /[\s<>"]/.test(uri)) return undefined;
  const nameAddr: NameAddr = { uri, params: rest === '' ? {} : parseParams(rest) };
  if (display !== undefined && display !== '') nameAddr.display = display;
  return nameAddr;
}

/** Index just past "SIP/2.0/" at the start of a Via element (LWS allowed around the slashes), or -1. */
function sentProtocolEnd(value: string): number {
  if (value.startsWith('SIP/2.0/')) return 8;
  const firstSlash = value.indexOf('/');
  if (firstSlash === -1 || value.slice(0, firstSlash).trim().toUpperCase() !== 'SIP') return -1;
  const secondSlash = value.indexOf('/', firstSlash + 1);
  if (secondSlash === -1 || value.slice(firstSlash + 1, secondSlash).trim() !== '2.0') return -1;
  return secondSlash + 1;
}

/** One Via element (RFC 3261 §20.42): "SIP/2.0/UDP host:port;params" (LWS allowed around the slashes). */
export function parseVia(value: string): Via | undefined {
  const protocolEnd = sentProtocolEnd(value);
  if (protocolEnd === -1) return undefined;
  const length = value.length;
  let transportStart = protocolEnd;
  while (transportStart < length && isLinearWhitespace(value.charCodeAt(transportStart))) transportStart++;
  let transportEnd = transportStart;
  while (transportEnd < length && !isLinearWhitespace(value.charCodeAt(transportEnd))) transportEnd++;
  let sentByStart = transportEnd;
  while (sentByStart < length && isLinearWhitespace(value.charCodeAt(sentByStart))) sentByStart++;
  const transport = value.slice(transportStart, transportEnd);
  if (sentByStart === transportEnd || !TOKEN.test(transport)) return undefined;
  const paramsStart = value.indexOf(';', sentByStart);
  const sentBy = parseHostPort(value.slice(sentByStart, paramsStart === -1 ? length : paramsStart).trim());
  if (sentBy === undefined) return undefined;
  const via: Via = { transport: transport.toUpperCase(), host: sentBy.host, params: {} };
  if (sentBy.port !== undefined) via.port = sentBy.port;
  if (paramsStart !== -1) via.params = parseParams(value.slice(paramsStart + 1));
  return via;
}

export function formatVia(via: Via): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

/** RFC 3261 §20.16: "49641 SUBSCRIBE"; the number must fit a 32-bit unsigned integer. */
export function parseCSeq(value: string): CSeq | undefined {
  const text = value.trim();
  let numberEnd = 0;
  while (numberEnd < text.length) {
    const code = text.charCodeAt(numberEnd);
    if (code < 48 || code > 57) break;
    numberEnd++;
  }
  if (numberEnd === 0 || numberEnd > 10 || !isLinearWhitespace(text.charCodeAt(numberEnd))) return undefined;
  const seq = Number(text.slice(0, numberEnd));
  const method = text.slice(numberEnd + 1).trim();
  if (seq > MAX_CSEQ || !TOKEN.test(method)) return undefined;
  return { seq, method };
}

/**
 * The branch parameter of the first element of a Via header value, read without parsing the element: for matching a
 * response to a client transaction (§17.1.3), which needs nothing else. Undefined when absent; values with quotes
 * (where ';' and ',' may be quoted) return null, for parseVia to handle.
 */
export function topViaBranch(value: string): string | undefined | null {
  if (value.indexOf('"') !== -1) return null;
  let end = value.indexOf(',');
  if (end === -1) end = value.length;
  let semicolon = value.indexOf(';');
  while (semicolon !== -1 && semicolon < end) {
    let next = value.indexOf(';', semicolon + 1);
    if (next === -1 || next > end) next = end;
    let nameStart = semicolon + 1;
    while (nameStart < next && isLinearWhitespace(value.charCodeAt(nameStart))) nameStart++;
    if (next - nameStart >= 6 && value.slice(nameStart, nameStart + 6).toLowerCase() === 'branch') {
      let at = nameStart + 6;
      while (at < next && isLinearWhitespace(value.charCodeAt(at))) at++;
      if (at < next && value.charCodeAt(at) === 61 /* = */) return value.slice(at + 1, next).trim();
      if (at === next) return undefined;
    }
    semicolon = next === end ? -1 : next;
  }
  return undefined;
}

/** The method of a CSeq value ("49641 SUBSCRIBE" → 'SUBSCRIBE'): the second whitespace-separated word, without
 *  checking the number; undefined when there is none. Enough to match a response to its transaction (§17.1.3). */
export function cseqMethod(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const length = value.length;
  let start = 0;
  while (start < length && isLinearWhitespace(value.charCodeAt(start))) start++;
  while (start < length && !isLinearWhitespace(value.charCodeAt(start))) start++;
  while (start < length && isLinearWhitespace(value.charCodeAt(start))) start++;
  let end = start;
  while (end < length && !isLinearWhitespace(value.charCodeAt(end))) end++;
  return end > start ? value.slice(start, end) : undefined;
}

/** Splits "token;params" with the token lower-cased; undefined when the token is not a valid token. */
function parseTokenWithParams(value: string): { token: string; params: Params } | undefined {
  const semicolon = value.indexOf(';');
  const token = (semicolon === -1 ? value : value.slice(0, semicolon)).trim();
  if (!TOKEN.test(token)) return undefined;
  return { token: token.toLowerCase(), params: semicolon === -1 ? {} : parseParams(value.slice(semicolon + 1)) };
}

/** RFC 6665 §8.2.1 Event: "presence;id=7". */
export function parseEvent(value: string): EventHeader | undefined {
  const parsed = parseTokenWithParams(value);
  return parsed === undefined ? undefined : { event: parsed.token, params: parsed.params };
}

/** RFC 6665 §8.2.3 Subscription-State: "active;expires=600". */
export function parseSubscriptionState(value: string): { state: string; params: Params } | undefined {
  const parsed = parseTokenWithParams(value);
  return parsed === undefined ? undefined : { state: parsed.token, params: parsed.params };
}

/** RFC 3261 §20.1 Accept: every media range of every Accept line; malformed ranges are skipped. */
export function parseAccept(values: string[]): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const value of values) {
    for (const element of splitHeaderValues(value)) {
      const semicolon = element.indexOf(';');
      const type = (semicolon === -1 ? element : element.slice(0, semicolon)).trim().toLowerCase();
      if (!MEDIA_TYPE.test(type)) continue;
      ranges.push({ type, params: semicolon === -1 ? {} : parseParams(element.slice(semicolon + 1)) });
    }
  }
  return ranges;
}
