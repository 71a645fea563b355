import { formatParams, parseHostPort, parseParams, uriScheme, type Params } from './headers.js';

/** A parsed URI. sip/sips/pres/im use the RFC 3261 §19.1 layout; for tel (RFC 3966) the number is in `user` and
 *  `host` is empty. User, password, params and headers are kept as written (escapes included); the host is
 *  lower-cased. */
export interface SipUri {
  scheme: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Params;
  headers?: string;
}

const HOST_BASED_SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips', 'pres', 'im']);

/** Parses a URI; undefined when the scheme is unsupported or the text does not follow its grammar. */
export function parseUri(text: string): SipUri | undefined {
  const scheme = uriScheme(text);
  if (scheme === undefined || /\s/.test(text)) return undefined;
  const rest = text.slice(scheme.length + 1);
  if (scheme === 'tel') return parseTelUri(rest);
  return HOST_BASED_SCHEMES.has(scheme) ? parseHostBasedUri(scheme, rest) : undefined;
}

function parseHostBasedUri(scheme: string, text: string): SipUri | undefined {
  // '@' is never allowed unescaped in userinfo, so the first one ends it.
  const at = text.indexOf('@');
  const hostStart = at + 1;
  let hostEnd = hostStart;
  while (hostEnd < text.length) {
    const code = text.charCodeAt(hostEnd);
    if (code === 59 /* ; */ || code === 63 /* ? */) break;
    hostEnd++;
  }
  const hostPort = parseHostPort(text.slice(hostStart, hostEnd));
  if (hostPort === undefined) return undefined;
  const uri: SipUri = { scheme, host: hostPort.host, params: {} };
  if (hostPort.port !== undefined) uri.port = hostPort.port;
  if (at !== -1) {
    const userInfo = text.slice(0, at);
    const passwordColon = userInfo.indexOf(':');
    const user = passwordColon === -1 ? userInfo : userInfo.slice(0, passwordColon);
    if (user === '' || !hasValidEscapes(userInfo)) return undefined;
    uri.user = user;
    if (passwordColon !== -1) uri.password = userInfo.slice(passwordColon + 1);
  }
  return addParamsAndHeaders(uri, text, hostEnd);
}

/** RFC 3966: tel:+1-201-555-0123;phone-context=example.com */
function parseTelUri(text: string): SipUri | undefined {
  let numberEnd = text.indexOf(';');
  if (numberEnd === -1) numberEnd = text.length;
  const number = text.slice(0, numberEnd);
  if (number === '' || number.indexOf('@') !== -1 || number.indexOf('?') !== -1) return undefined;
  return addParamsAndHeaders({ scheme: 'tel', user: number, host: '', params: {} }, text, numberEnd);
}

/** Reads ";params?headers" starting at `from` into the URI. */
function addParamsAndHeaders(uri: SipUri, text: string, from: number): SipUri {
  const question = text.indexOf('?', from);
  const paramsEnd = question === -1 ? text.length : question;
  if (from < paramsEnd) uri.params = parseParams(text.slice(from + 1, paramsEnd));
  if (question !== -1) uri.headers = text.slice(question + 1);
  return uri;
}

/** RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG; they must also decode (UTF-8) so callers can unescape safely. */
function hasValidEscapes(text: string): boolean {
  if (text.indexOf('%') === -1) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

export function formatUri(uri: SipUri): string {
  let text = `${uri.scheme}:`;
  if (uri.scheme === 'tel') {
    text += uri.user ?? '';
  } else {
    if (uri.user !== undefined) {
      text += uri.user;
      if (uri.password !== undefined) text += `:${uri.password}`;
      text += '@';
    }
    text += uri.host;
    if (uri.port !== undefined) text += `:${uri.port}`;
  }
  text += formatParams(uri.params);
  if (uri.headers !== undefined) text += `?${uri.headers}`;
  return text;
}
