/**
 * AMI Login checks, in Asterisk's order (manager.c authenticate): the user must exist, its permit/deny rules must let
 * the address in, then either `Secret` equals the secret or, with `AuthType: MD5`, `Key` is the hex MD5 of the
 * session's challenge followed by the secret. Secrets and keys are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { aclAllows } from '../../security/acl.js';
import type { AmiUser } from './ami-config.js';
import type { AmiMessage } from './ami-protocol.js';

export type LoginResult = { user: AmiUser } | { failure: string };

// Compared against when the user does not exist, so that an unknown name costs the same work as a wrong secret.
const NO_SECRET = 'presenced: no such user';

export function authenticate(
  users: ReadonlyMap<string, AmiUser>,
  request: AmiMessage,
  remoteAddress: string,
  challenge: string | undefined,
): LoginResult {
  const username = request.get('Username');
  if (username === '') return { failure: 'no Username' };
  const user = users.get(username.toLowerCase());
  if (!user) {
    sameText(request.get('Secret'), NO_SECRET);
    return { failure: 'no such user' };
  }
  if (!aclAllows(user.acl, remoteAddress)) return { failure: 'address not permitted for this user' };
  if (!user.secret) return { failure: 'the user has no secret' };
  if (request.get('AuthType').toLowerCase() === 'md5') {
    if (challenge === undefined) return { failure: 'MD5 login without a Challenge' };
    const expected = createHash('md5').update(challenge + user.secret, 'utf8').digest('hex');
    return sameText(request.get('Key').toLowerCase(), expected) ? { user } : { failure: 'wrong MD5 key' };
  }
  return sameText(request.get('Secret'), user.secret) ? { user } : { failure: 'wrong secret' };
}

/** Equality in time that depends on neither text: both are hashed to the same length first. */
export function sameText(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
