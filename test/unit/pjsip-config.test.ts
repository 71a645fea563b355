import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { aclAllows } from '../../lib/security/acl.js';
import { loadSecurityConfig, type SecurityConfig } from '../../lib/security/endpoints.js';
import { parsePjsipSections, PjsipConfigError, readPjsipSections, type PjsipSection } from '../../lib/security/pjsip-sections.js';

const DIR = 'fixtures/pjsip';

function expected(name: string): unknown {
  return JSON.parse(readFileSync(join(DIR, `${name}.expected.json`), 'utf8'));
}

function sectionsSnapshot(sections: PjsipSection[]): unknown {
  return sections.map((section) => ({
    name: section.name,
    type: section.type,
    at: `${basename(section.file)}:${section.line}`,
    entries: section.entries.map((entry) => `${entry.key}=${entry.value} (${basename(entry.file)}:${entry.line})`),
  }));
}

function securitySnapshot(config: SecurityConfig): unknown {
  return JSON.parse(JSON.stringify({
    defaultRealm: config.defaultRealm,
    endpoints: [...config.endpoints.values()].map((endpoint) => ({
      ...endpoint,
      auths: endpoint.auths.map((auth) => `${auth.name}: ${auth.username}@${auth.realm} (${auth.credential.kind})`),
    })),
    usernames: [...config.byUsername.keys()],
    acls: config.acls.map((acl) => ({ name: acl.name, rules: acl.rules.map((rule) => `${rule.sense} ${rule.text}`) })),
  }));
}

describe('security/pjsip-sections and endpoints (pjsip.conf)', () => {
  const main = join(DIR, 'freepbx', 'pjsip.conf');

  it('reads a FreePBX-style tree: includes, templates, (+) and same-name sections of different types', () => {
    expect(sectionsSnapshot(readPjsipSections(main))).to.deep.equal(expected('freepbx.sections'));
  });

  it('gives every section with its type, so other types (resource_list) can be read elsewhere', () => {
    const list = readPjsipSections(main).find((section) => section.type === 'resource_list');
    expect(list?.name).to.equal('blf-panel');
    expect(list?.entries.filter((entry) => entry.key === 'list_item').map((entry) => entry.value)).to.deep.equal(['6001', '6002']);
  });

  it('builds endpoints, auths, the default realm and the ACLs from them', () => {
    expect(securitySnapshot(loadSecurityConfig(main))).to.deep.equal(expected('freepbx.security'));
  });

  it('applies type=acl rules in order, acl= splicing in another section', () => {
    const office = loadSecurityConfig(main).acls.find((acl) => acl.name === 'office')!.rules;
    expect(aclAllows(office, '192.168.1.20')).to.equal(true);
    expect(aclAllows(office, '192.168.1.99')).to.equal(false);
    expect(aclAllows(office, '203.0.113.7')).to.equal(true);
    expect(aclAllows(office, '198.51.100.1')).to.equal(false);
  });

  it('reads the shipped sample', () => {
    const config = loadSecurityConfig('fixtures/pjsip.conf');
    expect([...config.endpoints.keys()]).to.deep.equal(['6001', '6002', '6003', 'lobby']);
    expect(config.endpoints.get('6003')!.auths[0].credential.kind).to.equal('md5');
  });

  describe('a broken file is an error naming file:line', () => {
    const broken = expected('broken') as Record<string, string>;
    for (const file of readdirSync(join(DIR, 'broken')).sort()) {
      it(file, () => {
        expect(() => loadSecurityConfig(join(DIR, 'broken', file))).to.throw(PjsipConfigError, broken[file]);
      });
    }

    it('every broken fixture has its expected message', () => {
      expect(Object.keys(broken).sort()).to.deep.equal(readdirSync(join(DIR, 'broken')).sort());
    });

    it('a file that cannot be read', () => {
      expect(() => readPjsipSections(join(DIR, 'no-such.conf'))).to.throw(PjsipConfigError, 'no-such.conf:0: cannot read: ENOENT');
    });

    it('an include cycle', () => {
      const files: Record<string, string> = { '/a.conf': '#include b.conf\n', '/b.conf': '#include a.conf\n' };
      expect(() => parsePjsipSections(files['/a.conf'], '/a.conf', (path) => files[path])).to.throw(PjsipConfigError, '/b.conf:1: #include "a.conf" ignored');
    });
  });
});
