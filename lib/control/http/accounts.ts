/**
 * Who may log in to the panel and the API: users are the endpoints of pjsip.conf with their SIP credentials (the
 * auth's `password`, or its `md5_cred` checked as MD5(username:realm:password)); administrators are the AMI users
 * whose `write=` includes `system` (or `all`), with their AMI secret and their permit/deny rules.
 */
import { createHash } from 'node:crypto';
import { aclAllows } from '../../security/acl.js';
import { sameText } from '../ami/ami-auth.js';
import type { AmiUser } from '../ami/ami-config.js';
import { AMI_CLASSES } from '../ami/ami-permissions.js';

/** What the panel reads of a pjsip.conf endpoint (lib/security reads the file). */
export interface PanelEndpoint {
  name: string;
  context: string;
  callerId: string | undefined;
  auths: ReadonlyArray<{
    username: string;
    realm: string;
    credential: { kind: 'password'; password: string } | { kind: 'md5'; md5: string };
  }>;
}

/** A caller of the API: a user (an endpoint), an administrator, or an anonymous loopback reader. */
export type Caller =
  | { role: 'user'; name: string; context: string; displayName: string }
  | { role: 'admin'; name: string }
  | { role: 'anonymous' };

export type Verdict = { caller: Exclude<Caller, { role: 'anonymous' }> } | { failure: string };

export interface AccountSources {
  /** The pjsip.conf endpoints; undefined without --pjsip. */
  endpoints: () => Iterable<PanelEndpoint> | undefined;
  /** The AMI users by lower-case name; undefined without AMI. */
  amiUsers: () => ReadonlyMap<string, AmiUser> | undefined;
}

// Compared against when nobody has the name, so that an unknown name costs the same work as a wrong password.
const NO_PASSWORD = 'presenced: no such account';

export class Accounts {
  constructor(private readonly sources: AccountSources) {}

  /** Whether users can log in at all (--pjsip given); without it the API is read-only for anonymous readers. */
  get hasUsers(): boolean {
    return this.sources.endpoints() !== undefined;
  }

  verify(username: string, password: string, address: string): Verdict {
    if (username === '') return { failure: 'no user name' };
    const endpoint = this.endpointFor(username);
    if (endpoint) {
      const auth = endpoint.auths.find((candidate) => candidate.username === username);
      if (auth && passwordMatches(auth, password)) return { caller: userOf(endpoint) };
      return { failure: 'wrong password' };
    }
    const admin = this.sources.amiUsers()?.get(username.toLowerCase());
    if (!admin || (admin.write & AMI_CLASSES.system) === 0) {
      sameText(password, NO_PASSWORD);
      return { failure: admin ? 'the AMI user has no system write permission' : 'no such user' };
    }
    if (!aclAllows(admin.acl, address)) return { failure: 'address not permitted for this AMI user' };
    if (!admin.secret || !sameText(password, admin.secret)) return { failure: 'wrong secret' };
    return { caller: { role: 'admin', name: admin.name } };
  }

  /** The caller a still-valid session stands for now (its endpoint may have been removed). */
  endpoint(name: string): PanelEndpoint | undefined {
    for (const endpoint of this.sources.endpoints() ?? []) if (endpoint.name === name) return endpoint;
    return undefined;
  }

  /** Every endpoint, for the directory's names. */
  endpoints(): PanelEndpoint[] {
    return [...(this.sources.endpoints() ?? [])];
  }

  private endpointFor(username: string): PanelEndpoint | undefined {
    for (const endpoint of this.sources.endpoints() ?? []) {
      if (endpoint.auths.some((auth) => auth.username === username)) return endpoint;
    }
    return undefined;
  }
}

export function userOf(endpoint: PanelEndpoint): Caller & { role: 'user' } {
  return { role: 'user', name: endpoint.name, context: endpoint.context, displayName: displayName(endpoint) };
}

/** `"Alice" <6001>` → Alice; `Alice <6001>` → Alice; nothing → the endpoint's name. */
export function displayName(endpoint: PanelEndpoint): string {
  const callerId = endpoint.callerId?.trim() ?? '';
  const name = /^"([^"]*)"/.exec(callerId)?.[1] ?? callerId.replace(/<[^>]*>\s*$/, '').trim();
  return name === '' ? endpoint.name : name;
}

function passwordMatches(auth: PanelEndpoint['auths'][number], password: string): boolean {
  if (auth.credential.kind === 'password') return sameText(password, auth.credential.password);
  const md5 = createHash('md5').update(`${auth.username}:${auth.realm}:${password}`, 'utf8').digest('hex');
  return sameText(md5, auth.credential.md5);
}
