// A client's side of SIP digest (RFC 7616 with qop=auth), written apart from the server's code so that the tests
// check it against an independent implementation.
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: string;
  qop?: string;
  stale?: string;
}

/** The parameters of one WWW-Authenticate value. */
export function parseChallenge(value: string): Challenge {
  const params: Record<string, string> = {};
  for (const match of value.replace(/^Digest\s+/i, '').matchAll(/([a-z]+)=(?:"([^"]*)"|([^,\s]*))/gi)) {
    params[match[1].toLowerCase()] = match[2] ?? match[3];
  }
  return params as unknown as Challenge;
}

export interface Answer {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** Default 1. */
  nc?: number;
  cnonce?: string;
  /** Answer with this algorithm instead of the challenge's. */
  algorithm?: string;
}

function hash(algorithm: string, text: string): string {
  return createHash(algorithm.toUpperCase() === 'SHA-256' ? 'sha256' : 'md5').update(text).digest('hex');
}

/** The Authorization value answering `challenge`. */
export function authorization(challenge: Challenge, answer: Answer): string {
  const algorithm = answer.algorithm ?? challenge.algorithm;
  const nc = (answer.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = answer.cnonce ?? randomBytes(8).toString('hex');
  const ha1 = hash(algorithm, `${answer.username}:${challenge.realm}:${answer.password}`);
  const ha2 = hash(algorithm, `${answer.method}:${answer.uri}`);
  const response = hash(algorithm, `${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  const opaque = challenge.opaque === undefined ? '' : `, opaque="${challenge.opaque}"`;
  return `Digest username="${answer.username}", realm="${challenge.realm}", nonce="${challenge.nonce}", uri="${answer.uri}", ` +
    `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", qop=auth, nc=${nc}${opaque}`;
}
