/**
 * Who may use presenced, from the pjsip.conf subset docs/SECURITY.md lists: `type=endpoint` (auth, context,
 * subscribe_context, allow_subscribe, callerid), `type=auth` (auth_type userpass|md5, username, password, md5_cred,
 * realm), `type=global` (default_realm) and `type=acl` (permit, deny, acl). Other types and keys are left to
 * whoever reads them. A value that cannot be used is a PjsipConfigError naming its file:line.
 */
import { parseAclRules, type AclRule } from './acl.js';
import { lastValue, PjsipConfigError, readPjsipSections, type PjsipEntry, type PjsipSection } from './pjsip-sections.js';

export interface PjsipAuth {
  name: string;
  username: string;
  /** `userpass`: the password; `md5`: only the MD5 of username:realm:password. */
  credential: { kind: 'password'; password: string } | { kind: 'md5'; md5: string };
  /** The auth's `realm=`, else the global default. */
  realm: string;
}

export interface PjsipEndpoint {
  name: string;
  auths: PjsipAuth[];
  context: string;
  /** `subscribe_context=`, else `context`. */
  subscribeContext: string;
  allowSubscribe: boolean;
  callerId: string | undefined;
}

export interface SecurityConfig {
  file: string;
  /** By name; `anonymous` among them when defined. */
  endpoints: Map<string, PjsipEndpoint>;
  /** The endpoints each digest username may authenticate as. */
  byUsername: Map<string, Array<{ endpoint: PjsipEndpoint; auth: PjsipAuth }>>;
  defaultRealm: string;
  /** Every `type=acl` section; an address must pass each of them. */
  acls: Array<{ name: string; rules: AclRule[] }>;
}

/** Asterisk's defaults (res_pjsip: default_realm "asterisk", endpoint context "default"). */
export const DEFAULT_REALM = 'asterisk';
const DEFAULT_CONTEXT = 'default';
export const ANONYMOUS = 'anonymous';

const TRUE_WORDS = new Set(['yes', 'true', 'y', 't', '1', 'on']);
const FALSE_WORDS = new Set(['no', 'false', 'n', 'f', '0', 'off']);

export function loadSecurityConfig(file: string): SecurityConfig {
  return securityConfigOf(readPjsipSections(file), file);
}

export function securityConfigOf(sections: PjsipSection[], file: string): SecurityConfig {
  const ofType = (type: string): PjsipSection[] => sections.filter((section) => section.type === type);
  const global = ofType('global').at(-1);
  const defaultRealm = (global && lastValue(global, 'default_realm')) || DEFAULT_REALM;
  const auths = new Map(ofType('auth').map((section) => [section.name, readAuth(section, defaultRealm)]));
  const endpoints = new Map<string, PjsipEndpoint>();
  const byUsername = new Map<string, Array<{ endpoint: PjsipEndpoint; auth: PjsipAuth }>>();
  for (const section of ofType('endpoint')) {
    const endpoint = readEndpoint(section, auths);
    endpoints.set(endpoint.name, endpoint);
    for (const auth of endpoint.auths) {
      const list = byUsername.get(auth.username) ?? [];
      list.push({ endpoint, auth });
      byUsername.set(auth.username, list);
    }
  }
  return { file, endpoints, byUsername, defaultRealm, acls: readAcls(ofType('acl')) };
}

function readAuth(section: PjsipSection, defaultRealm: string): PjsipAuth {
  const authType = lastValue(section, 'auth_type') ?? 'userpass';
  const username = lastValue(section, 'username');
  if (!username) throw new PjsipConfigError(section, `auth [${section.name}] has no username=`);
  const realm = lastValue(section, 'realm') || defaultRealm;
  if (authType === 'userpass') {
    const password = lastValue(section, 'password');
    if (!password) throw new PjsipConfigError(section, `auth [${section.name}] (auth_type=userpass) has no password=`);
    return { name: section.name, username, realm, credential: { kind: 'password', password } };
  }
  if (authType === 'md5') {
    const md5 = lastValue(section, 'md5_cred') ?? '';
    if (!/^[0-9a-f]{32}$/i.test(md5)) throw new PjsipConfigError(at(section, 'md5_cred'), `auth [${section.name}] (auth_type=md5) needs md5_cred= with 32 hex digits`);
    return { name: section.name, username, realm, credential: { kind: 'md5', md5: md5.toLowerCase() } };
  }
  throw new PjsipConfigError(at(section, 'auth_type'), `auth [${section.name}]: auth_type=${authType} is not supported (userpass or md5)`);
}

function readEndpoint(section: PjsipSection, auths: Map<string, PjsipAuth>): PjsipEndpoint {
  const names = (lastValue(section, 'auth') ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  const endpointAuths = names.map((name) => {
    const auth = auths.get(name);
    if (!auth) throw new PjsipConfigError(at(section, 'auth'), `endpoint [${section.name}] names auth '${name}', which is not a type=auth section`);
    return auth;
  });
  const context = lastValue(section, 'context') || DEFAULT_CONTEXT;
  const allow = lastValue(section, 'allow_subscribe') ?? 'yes';
  if (!TRUE_WORDS.has(allow.toLowerCase()) && !FALSE_WORDS.has(allow.toLowerCase())) {
    throw new PjsipConfigError(at(section, 'allow_subscribe'), `endpoint [${section.name}]: allow_subscribe=${allow} is not yes or no`);
  }
  return {
    name: section.name,
    auths: endpointAuths,
    context,
    subscribeContext: lastValue(section, 'subscribe_context') || context,
    allowSubscribe: TRUE_WORDS.has(allow.toLowerCase()),
    callerId: lastValue(section, 'callerid'),
  };
}

/** `permit=`/`deny=` in order; `acl=` splices in the rules of another type=acl section. */
function readAcls(sections: PjsipSection[]): Array<{ name: string; rules: AclRule[] }> {
  const byName = new Map(sections.map((section) => [section.name, section]));
  const rulesOf = (section: PjsipSection, seen: Set<string>): AclRule[] => {
    seen.add(section.name);
    return section.entries.flatMap((entry) => aclEntry(section, entry, byName, seen, rulesOf));
  };
  return sections.map((section) => ({ name: section.name, rules: rulesOf(section, new Set()) }));
}

function aclEntry(
  section: PjsipSection,
  entry: PjsipEntry,
  byName: Map<string, PjsipSection>,
  seen: Set<string>,
  rulesOf: (section: PjsipSection, seen: Set<string>) => AclRule[],
): AclRule[] {
  if (entry.key === 'permit' || entry.key === 'deny') {
    try {
      return parseAclRules(entry.key, entry.value);
    } catch (error) {
      throw new PjsipConfigError(entry, `acl [${section.name}]: ${(error as Error).message}`);
    }
  }
  if (entry.key !== 'acl') return [];
  return entry.value.split(',').map((name) => name.trim()).filter((name) => name !== '').flatMap((name) => {
    const named = byName.get(name);
    if (!named) throw new PjsipConfigError(entry, `acl [${section.name}] names acl '${name}', which is not a type=acl section`);
    if (seen.has(name)) throw new PjsipConfigError(entry, `acl [${section.name}] includes acl '${name}' in a cycle`);
    return rulesOf(named, new Set(seen));
  });
}

/** Where `key` is set in `section` (for the error), else the section header. */
function at(section: PjsipSection, key: string): { file: string; line: number } {
  return [...section.entries].reverse().find((entry) => entry.key === key) ?? section;
}
