/**
 * `permit=` / `deny=` lines of manager.conf users and pjsip.conf `type=acl` sections (Asterisk acl.c, ast_append_ha /
 * ast_apply_ha): every rule that matches the client's address decides in turn, so the last matching one wins; an
 * address no rule matches is allowed.
 */
import net from 'node:net';

export type AclSense = 'permit' | 'deny';

export interface AclRule {
  sense: AclSense;
  /** The network as written, for messages. */
  text: string;
  readonly network: net.BlockList;
}

/**
 * `127.0.0.1`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `::1`, `fd00::/8`; several may be given separated by commas.
 * An IPv4 rule also matches IPv4-mapped IPv6 clients (::ffff:a.b.c.d). `0.0.0.0/0` matches every address, IPv6
 * included, so that `deny=0.0.0.0/0.0.0.0` followed by permits closes the door to IPv6 clients too.
 * Throws an Error naming the problem.
 */
export function parseAclRules(sense: AclSense, value: string): AclRule[] {
  return value.split(',').map((part) => part.trim()).filter((part) => part !== '').map((text) => parseRule(sense, text));
}

function parseRule(sense: AclSense, text: string): AclRule {
  const slash = text.indexOf('/');
  const address = (slash < 0 ? text : text.slice(0, slash)).replace(/^\[(.*)\]$/, '$1');
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) throw new Error(`'${text}' is not an IP address or network`);
  const bits = family === 'ipv4' ? 32 : 128;
  const prefix = slash < 0 ? bits : prefixLength(text.slice(slash + 1), family, bits);
  if (prefix === undefined) throw new Error(`'${text}' has an invalid mask`);
  const network = new net.BlockList();
  network.addSubnet(address, prefix, family);
  if (family === 'ipv4' && prefix === 0) network.addSubnet('::', 0, 'ipv6');
  return { sense, text, network };
}

/** `/24` or, for IPv4, a contiguous dotted mask `/255.255.255.0`. */
function prefixLength(mask: string, family: 'ipv4' | 'ipv6', bits: number): number | undefined {
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= bits ? Number(mask) : undefined;
  if (family !== 'ipv4' || !net.isIPv4(mask)) return undefined;
  const value = mask.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const binary = value.toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(binary)) return undefined;
  const ones = binary.indexOf('0');
  return ones < 0 ? 32 : ones;
}

/** Whether `address` (as a socket reports it, IPv4-mapped or not) may log in under `rules`. */
export function aclAllows(rules: readonly AclRule[], address: string): boolean {
  const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
  for (let i = rules.length - 1; i >= 0; i--) {
    if (rules[i].network.check(address, family)) return rules[i].sense === 'permit';
  }
  return true;
}
