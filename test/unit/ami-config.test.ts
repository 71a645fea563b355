import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { aclAllows } from '../../lib/security/acl.js';
import { DEFAULT_AMI_GENERAL, loadAmiConfig, parseAmiConfig, type AmiConfig } from '../../lib/control/ami/ami-config.js';
import { AMI_CLASSES, ALL_CLASSES } from '../../lib/control/ami/ami-permissions.js';

const GOLDEN_DIR = 'fixtures/ami/config';

/** What a golden file pins: settings, users (rules as written) and diagnostics, as plain JSON. */
function snapshot(config: AmiConfig): unknown {
  return JSON.parse(JSON.stringify({
    general: config.general,
    users: [...config.users.entries()].map(([key, user]) => ({
      key,
      name: user.name,
      secret: user.secret,
      read: user.read,
      write: user.write,
      acl: user.acl.map((rule) => `${rule.sense} ${rule.text}`),
    })),
    diagnostics: config.diagnostics,
  }));
}

function expected(name: string): unknown {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.expected.json`), 'utf8'));
}

describe('ami/config golden files', () => {
  const inputs = readdirSync(GOLDEN_DIR).filter((name) => name.endsWith('.conf'));

  it('has golden inputs', () => {
    expect(inputs).to.include.members(['users.conf', 'errors.conf']);
  });

  for (const input of inputs) {
    it(`reads ${input}`, () => {
      expect(snapshot(loadAmiConfig(join(GOLDEN_DIR, input)))).to.deep.equal(expected(input.replace(/\.conf$/, '')));
    });
  }
});

describe('ami/config', () => {
  it('throws naming the file when it cannot be read', () => {
    expect(() => loadAmiConfig('fixtures/ami/no-such-manager.conf')).to.throw(/fixtures\/ami\/no-such-manager\.conf.*ENOENT/);
  });

  it('gives a user no rights and no networks unless the section grants them, like Asterisk', () => {
    const config = parseAmiConfig('[quiet]\nsecret = x\n');
    expect(config.general).to.deep.equal(DEFAULT_AMI_GENERAL);
    expect(config.users.get('quiet')).to.deep.include({ read: 0, write: 0, acl: [] });
    expect(config.diagnostics).to.deep.equal([]);
  });

  it('combines the template\'s rules with the user\'s in order, so the user\'s last match decides', () => {
    const alice = loadAmiConfig(join(GOLDEN_DIR, 'users.conf')).users.get('alice');
    if (!alice) throw new Error('no alice');
    expect(aclAllows(alice.acl, '127.0.0.1')).to.equal(true);
    expect(aclAllows(alice.acl, '192.168.1.10')).to.equal(false);
    expect(alice.read).to.equal(AMI_CLASSES.call | AMI_CLASSES.reporting);
  });

  it('reads `all` as every class', () => {
    expect(parseAmiConfig('[u]\nsecret=x\nread=all\nwrite=all\n').users.get('u')).to.deep.include({ read: ALL_CLASSES, write: ALL_CLASSES });
  });

  it('loads the integration tests\' manager.conf with only the address settings reported', () => {
    const config = loadAmiConfig('fixtures/ami/manager.conf');
    expect([...config.users.keys()]).to.deep.equal(['admin', 'panel', 'deaf', 'remote']);
    expect(config.diagnostics.map((d) => d.message)).to.deep.equal([
      '[general] port has no effect in presenced (the address comes from --ami); ignored',
      '[general] bindaddr has no effect in presenced (the address comes from --ami); ignored',
    ]);
  });
});
