import { expect } from 'chai';
import { aclAllows, parseAclRules, type AclRule } from '../../lib/security/acl.js';

function rules(...lines: Array<[sense: 'permit' | 'deny', value: string]>): AclRule[] {
  return lines.flatMap(([sense, value]) => parseAclRules(sense, value));
}

describe('ami/acl', () => {
  it('allows every address when there are no rules', () => {
    expect(aclAllows([], '192.0.2.1')).to.equal(true);
    expect(aclAllows([], '2001:db8::1')).to.equal(true);
  });

  it('lets the last matching rule decide (deny everything, then permit some)', () => {
    const acl = rules(['deny', '0.0.0.0/0.0.0.0'], ['permit', '10.0.0.0/255.0.0.0'], ['deny', '10.1.0.0/16']);
    expect(aclAllows(acl, '192.0.2.1')).to.equal(false);
    expect(aclAllows(acl, '10.2.3.4')).to.equal(true);
    expect(aclAllows(acl, '10.1.3.4')).to.equal(false);
  });

  it('reads a bare address as one host, CIDR prefixes and dotted masks as networks', () => {
    const acl = rules(['deny', '0.0.0.0/0'], ['permit', '127.0.0.1'], ['permit', '192.168.0.0/255.255.255.0'], ['permit', '172.16.0.0/12']);
    expect(aclAllows(acl, '127.0.0.1')).to.equal(true);
    expect(aclAllows(acl, '127.0.0.2')).to.equal(false);
    expect(aclAllows(acl, '192.168.0.200')).to.equal(true);
    expect(aclAllows(acl, '192.168.1.1')).to.equal(false);
    expect(aclAllows(acl, '172.31.255.255')).to.equal(true);
  });

  it('matches IPv4 rules against IPv4-mapped addresses, as a dual-stack socket reports them', () => {
    const acl = rules(['deny', '0.0.0.0/0.0.0.0'], ['permit', '127.0.0.1/255.255.255.255']);
    expect(aclAllows(acl, '::ffff:127.0.0.1')).to.equal(true);
    expect(aclAllows(acl, '::ffff:192.0.2.1')).to.equal(false);
  });

  it('closes the door to IPv6 clients too when everything IPv4 is denied', () => {
    const acl = rules(['deny', '0.0.0.0/0.0.0.0'], ['permit', '127.0.0.1']);
    expect(aclAllows(acl, '::1')).to.equal(false);
    expect(aclAllows(acl, '2001:db8::1')).to.equal(false);
  });

  it('reads IPv6 networks, bracketed or not, and comma-separated lists', () => {
    const acl = rules(['deny', '::/0'], ['permit', '[::1], 2001:db8::/32']);
    expect(acl.map((rule) => rule.text)).to.deep.equal(['::/0', '[::1]', '2001:db8::/32']);
    expect(aclAllows(acl, '::1')).to.equal(true);
    expect(aclAllows(acl, '2001:db8:5::7')).to.equal(true);
    expect(aclAllows(acl, '2001:db9::1')).to.equal(false);
  });

  it('refuses what is no address or no mask', () => {
    expect(() => parseAclRules('permit', 'localhost')).to.throw(/'localhost' is not an IP address or network/);
    expect(() => parseAclRules('permit', '10.0.0.256')).to.throw(/not an IP address/);
    expect(() => parseAclRules('permit', '10.0.0.0/33')).to.throw(/'10.0.0.0\/33' has an invalid mask/);
    expect(() => parseAclRules('permit', '10.0.0.0/255.0.255.0')).to.throw(/invalid mask/);
    expect(() => parseAclRules('permit', '::1/255.255.255.0')).to.throw(/invalid mask/);
  });
});
