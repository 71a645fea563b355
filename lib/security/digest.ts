/**
 * HTTP digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760): SHA-256 and MD5 with qop=auth, the
 * Authorization header's parameters, and the response a password (or an MD5 credential) gives.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const DIGEST_ALGORITHMS = ['SHA-256', 'MD5'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const NODE_HASH: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', MD5: 'md5' };

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(NODE_HASH[algorithm]).update(text, 'utf8').digest('hex');
}

/** RFC 7616 §3.4.1: A1 = username:realm:password (the `-sess` variants are not offered). */
export function ha1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** The parameters of one `Digest` credential (RFC 7616 §3.4). */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** Absent means MD5 (RFC 7616 §3.4). */
  algorithm: string;
  qop: string | undefined;
  nc: string | undefined;
  cnonce: string | undefined;
  opaque: string | undefined;
}

/** RFC 7616 §3.4.1 with qop=auth: response = H(HA1:nonce:nc:cnonce:qop:H(method:uri)). */
export function digestResponse(algorithm: DigestAlgorithm, ha1Hex: string, method: string, credentials: DigestCredentials): string {
  const ha2 = digestHash(algorithm, `${method}:${credentials.uri}`);
  return digestHash(algorithm, `${ha1Hex}:${credentials.nonce}:${credentials.nc}:${credentials.cnonce}:${credentials.qop}:${ha2}`);
}

/** Compares two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The algorithm token as offered, or undefined for one we do not offer. */
export function offeredAlgorithm(token: string): DigestAlgorithm | undefined {
  const upper = token.toUpperCase();
  return DIGEST_ALGORITHMS.find((algorithm) => algorithm === upper);
}

/** A `WWW-Authenticate` value (RFC 7616 §3.3; RFC 8760 §2.4: SHA-256 is offered first). */
export function challenge(algorithm: DigestAlgorithm, realm: string, nonce: string, opaque: string, stale: boolean): string {
  const staleParam = stale ? ', stale=true' : '';
  return `Digest realm="${realm}", nonce="${nonce}", opaque="${opaque}", algorithm=${algorithm}, qop="auth"${staleParam}`;
}

/** The `Digest` credentials of an Authorization value, or undefined when it is not one or lacks a needed part. */
export function parseAuthorization(value: string): DigestCredentials | undefined {
  const match = /^\s*digest\s+/i.exec(value);
  if (!match) return undefined;
  const params = parseAuthParams(value.slice(match[0].length));
  if (!params) return undefined;
  const { username, realm, nonce, uri, response } = params;
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return undefined;
  return {
    username, realm, nonce, uri, response,
    algorithm: params.algorithm ?? 'MD5',
    qop: params.qop, nc: params.nc, cnonce: params.cnonce, opaque: params.opaque,
  };
}

/** `name=token` / `name="quoted \" string"` pairs separated by commas (RFC 7235 auth-param); undefined if malformed. */
function parseAuthParams(text: string): Record<string, string> | undefined {
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const pattern = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const found = pattern.exec(text);
    if (!found) return undefined;
    const name = found[1].toLowerCase();
    if (name in params) return undefined;
    params[name] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3];
    at = pattern.lastIndex;
    if (found[4] === '') break;
  }
  return params;
}
