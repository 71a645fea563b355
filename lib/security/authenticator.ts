/**
 * The authenticate step of the request pipeline. With endpoints from pjsip.conf, SUBSCRIBE and PUBLISH must carry
 * digest credentials of one of them (Asterisk's rule), or are admitted as `[anonymous]` when that endpoint exists;
 * everything else (OPTIONS: keep-alives and monitoring) passes. Every failure — unknown user, wrong password,
 * unsupported algorithm, bad or replayed nonce — gets the very same 401 with fresh challenges, after a delay that
 * grows with the address's recent failures, and one WARN line that fail2ban matches (docs/fail2ban/).
 */
import { ERRORS, sipAnswer } from '../errors.js';
import { stripControlCharacters } from '../presence/state.js';
import { parseNameAddr } from '../sip/headers.js';
import type { Principal, RequestStep } from '../sip/pipeline.js';
import type { IncomingRequest } from '../sip/stack.js';
import { formatHostPort } from '../sip/transport.js';
import { parseUri } from '../sip/uri.js';
import type { Logger } from '../util/log.js';
import type { AuthFailures } from './auth-failures.js';
import { challenge, DIGEST_ALGORITHMS, digestResponse, ha1, offeredAlgorithm, parseAuthorization, sameDigest, type DigestAlgorithm, type DigestCredentials } from './digest.js';
import { ANONYMOUS, type PjsipAuth, type PjsipEndpoint, type SecurityConfig } from './endpoints.js';
import type { NonceCounts, NonceIssuer } from './nonces.js';

/** Methods that need credentials. */
const PROTECTED = new Set(['SUBSCRIBE', 'PUBLISH']);
/** Longest username copied into a log line. */
const MAX_LOGGED_USERNAME = 64;

export interface AuthenticatorOptions {
  /** The endpoints being served (replaced on reload); without any (open mode) everything passes. */
  security: () => SecurityConfig | undefined;
  nonces: NonceIssuer;
  counts: NonceCounts;
  failures: AuthFailures;
  log: Logger;
}

type Verdict =
  | { kind: 'ok'; endpoint: PjsipEndpoint }
  | { kind: 'stale' }
  | { kind: 'failed'; reason: string };

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  readonly step: RequestStep = (incoming, next) => {
    const { request } = incoming;
    const security = this.options.security();
    if (!security || security.endpoints.size === 0 || !PROTECTED.has(request.method)) return next();
    const credentials = pickCredentials(request.getAll('authorization'), security.defaultRealm);
    if (credentials === undefined) {
      const anonymous = security.endpoints.get(ANONYMOUS);
      if (anonymous) {
        incoming.principal = principalOf(anonymous);
        return next();
      }
      // The first request of every client: not a failure, just the challenge.
      this.challenge(incoming, realmFor(incoming, security), false);
      return;
    }
    const verdict = this.verify(incoming, credentials, security);
    if (verdict.kind === 'ok') {
      this.options.failures.succeeded(incoming.flow.remoteHost);
      incoming.principal = principalOf(verdict.endpoint);
      return next();
    }
    if (verdict.kind === 'stale') {
      this.challenge(incoming, credentials.realm, true);
      return;
    }
    this.fail(incoming, credentials.username, verdict.reason, realmFor(incoming, security));
  };

  private verify(incoming: IncomingRequest, credentials: DigestCredentials, security: SecurityConfig): Verdict {
    const algorithm = offeredAlgorithm(credentials.algorithm);
    if (algorithm === undefined) return { kind: 'failed', reason: `algorithm ${credentials.algorithm} not offered` };
    if (credentials.qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(credentials.nc ?? '') || !credentials.cnonce) {
      return { kind: 'failed', reason: 'no qop=auth with nc and cnonce' };
    }
    if (credentials.opaque !== undefined && credentials.opaque !== this.options.nonces.opaque) return { kind: 'failed', reason: 'wrong opaque' };
    const nonce = this.options.nonces.check(credentials.nonce);
    if (nonce.kind === 'invalid') return { kind: 'failed', reason: 'nonce not issued here' };
    const candidates = security.byUsername.get(credentials.username) ?? [];
    // An unknown user costs the same hashing as a known one: no timing difference to enumerate by.
    if (candidates.length === 0) digestResponse(algorithm, ha1(algorithm, credentials.username, credentials.realm, ''), incoming.request.method, credentials);
    const match = orderByFromUser(candidates, incoming).find(({ auth }) => this.answers(auth, algorithm, credentials, incoming.request.method));
    if (!match) return { kind: 'failed', reason: candidates.length === 0 ? 'unknown user' : 'wrong password' };
    // RFC 7616 §3.3 stale=true: the credentials were right, only the nonce is too old.
    if (nonce.kind === 'stale') return { kind: 'stale' };
    const counted = this.options.counts.accept(credentials.nonce, nonce.issuedAt, parseInt(credentials.nc!, 16));
    if (counted === 'forgotten') return { kind: 'stale' };
    if (counted === 'replayed') return { kind: 'failed', reason: 'nonce count replayed' };
    return { kind: 'ok', endpoint: match.endpoint };
  }

  /** Whether `credentials` prove the password of `auth` (a `md5_cred` auth can only answer MD5). */
  private answers(auth: PjsipAuth, algorithm: DigestAlgorithm, credentials: DigestCredentials, method: string): boolean {
    if (credentials.realm !== auth.realm) return false;
    let secret: string;
    if (auth.credential.kind === 'password') secret = ha1(algorithm, auth.username, auth.realm, auth.credential.password);
    else if (algorithm === 'MD5') secret = auth.credential.md5;
    else return false;
    return sameDigest(digestResponse(algorithm, secret, method, credentials), credentials.response);
  }

  private fail(incoming: IncomingRequest, username: string, reason: string, realm: string): void {
    const { flow, request } = incoming;
    const { delayMs, banned } = this.options.failures.failed(flow.remoteHost);
    const shown = stripControlCharacters(username).slice(0, MAX_LOGGED_USERNAME).replace(/'/g, '"');
    this.options.log.warn(`auth: failed ${request.method} from ${formatHostPort(flow.remoteHost, flow.remotePort)} as '${shown}': ${reason}`);
    if (banned) {
      this.options.log.warn(`auth: banning ${flow.remoteHost} after repeated failures`);
      return;
    }
    if (delayMs === 0) this.challenge(incoming, realm, false);
    else setTimeout(() => this.challenge(incoming, realm, false), delayMs).unref();
  }

  /** 401 with a SHA-256 then an MD5 challenge (RFC 8760 §2.4), both with the same fresh nonce. */
  private challenge(incoming: IncomingRequest, realm: string, stale: boolean): void {
    const { nonces } = this.options;
    const nonce = nonces.issue();
    const headers = DIGEST_ALGORITHMS.map((algorithm): [string, string] => ['WWW-Authenticate', challenge(algorithm, realm, nonce, nonces.opaque, stale)]);
    incoming.respond(sipAnswer(ERRORS.UNAUTHORIZED), { headers });
  }
}

function principalOf(endpoint: PjsipEndpoint): Principal {
  return {
    endpoint: endpoint.name,
    owns: endpoint.name === ANONYMOUS ? [] : [endpoint.name, ...endpoint.auths.map((auth) => auth.username)],
    subscribeContext: endpoint.subscribeContext,
    context: endpoint.context,
    allowSubscribe: endpoint.allowSubscribe,
  };
}

/** The Digest credentials for our realm, else the first Digest credentials (they will fail like a wrong password). */
function pickCredentials(values: string[], realm: string): DigestCredentials | undefined {
  const all = values.map(parseAuthorization).filter((credentials) => credentials !== undefined);
  return all.find((credentials) => credentials.realm === realm) ?? all[0];
}

/**
 * The realm to challenge with: that of the endpoint the From user names when its auth has its own `realm=`, else
 * the default realm — so that an unknown user is challenged exactly like a known one.
 */
function realmFor(incoming: IncomingRequest, security: SecurityConfig): string {
  const user = fromUser(incoming);
  return (user !== undefined ? security.endpoints.get(user)?.auths[0]?.realm : undefined) ?? security.defaultRealm;
}

/** The endpoint named by the From user first (Asterisk identifies endpoints by it), then the others. */
function orderByFromUser<T extends { endpoint: PjsipEndpoint }>(candidates: T[], incoming: IncomingRequest): T[] {
  const user = fromUser(incoming);
  return [...candidates].sort((a, b) => Number(b.endpoint.name === user) - Number(a.endpoint.name === user));
}

function fromUser(incoming: IncomingRequest): string | undefined {
  const from = parseNameAddr(incoming.request.get('from') ?? '');
  const user = from === undefined ? undefined : parseUri(from.uri)?.user;
  try {
    return user === undefined ? undefined : decodeURIComponent(user);
  } catch {
    return user;
  }
}
