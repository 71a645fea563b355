// The option table and the configuration built from it.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readConfigFile } from '../../lib/config/config-file.js';
import { defaultValues } from '../../lib/config/command-line.js';
import { fileKey, OPTIONS, type OptionSpec } from '../../lib/config/options.js';
import { CONFIG_DOC_PATH, renderSampleConfig, SAMPLE_CONFIG_PATH, withOptionTable } from '../../lib/config/reference.js';
import { buildServerConfig } from '../../lib/config/server-config.js';

const SPECS: OptionSpec<unknown>[] = Object.values(OPTIONS);

describe('config: the option table', () => {
  it('gives every option its own flag and its own presenced.conf key', () => {
    const flags = SPECS.map((spec) => spec.flag);
    const keys = SPECS.map((spec) => `${spec.section}.${fileKey(spec)}`);
    expect(new Set(flags).size).to.equal(flags.length);
    expect(new Set(keys).size).to.equal(keys.length);
  });

  it('parses every default it shows back to the default', () => {
    for (const spec of SPECS) {
      if (spec.default === undefined || spec.defaultText !== undefined) continue;
      expect(spec.parse(String(spec.default)), spec.flag).to.deep.equal(spec.default);
    }
  });

  it('builds a listener per SIP transport that is on', () => {
    const config = buildServerConfig({ ...defaultValues(), tcp: undefined });
    expect(config.listeners).to.deep.equal([{ transport: 'UDP', host: '0.0.0.0', port: 5060 }]);
    const web = buildServerConfig({ ...defaultValues(), udp: undefined, tcp: undefined, ws: { host: '127.0.0.1', port: 8088 }, wsOrigin: 'https://a.example, https://b.example' });
    expect(web.listeners).to.deep.equal([{ transport: 'WS', host: '127.0.0.1', port: 8088 }]);
    expect(web.websocket.origins).to.deep.equal(['https://a.example', 'https://b.example']);
    const secure = buildServerConfig({ ...defaultValues(), tls: { host: '0.0.0.0', port: 5061 }, tlsCert: 'pbx.crt', tlsKey: 'pbx.key', tlsCertDir: 'sni', tlsHandshakeTimeout: 3 });
    expect(secure.listeners.at(-1)).to.deep.equal({ transport: 'TLS', host: '0.0.0.0', port: 5061 });
    expect(secure.tls).to.deep.equal({ certFile: 'pbx.crt', keyFile: 'pbx.key', certDir: 'sni' });
    expect(secure.streams.handshakeTimeoutMs).to.equal(3000);
  });

  it('refuses option combinations that cannot run, naming the options', () => {
    expect(() => buildServerConfig({ ...defaultValues(), udp: undefined, tcp: undefined })).to.throw('every transport is off');
    expect(() => buildServerConfig({ ...defaultValues(), wss: { host: '0.0.0.0', port: 8089 } })).to.throw('--wss needs --tls-cert FILE and --tls-key FILE');
    expect(() => buildServerConfig({ ...defaultValues(), tlsCert: 'pbx.crt' })).to.throw('--tls-cert and --tls-key go together');
    expect(() => buildServerConfig({ ...defaultValues(), tls: { host: '0.0.0.0', port: 5061 } })).to.throw('--tls needs --tls-cert FILE and --tls-key FILE');
    expect(() => buildServerConfig({ ...defaultValues(), tlsCertDir: '/etc/presenced/sni' })).to.throw('--tls-cert-dir needs --tls-cert FILE and --tls-key FILE');
    expect(() => buildServerConfig({ ...defaultValues(), minExpires: 600, maxExpires: 60 })).to.throw('--min-expires must not exceed --max-expires');
    expect(() => buildServerConfig({ ...defaultValues(), ami: { host: '127.0.0.1', port: 5038 } })).to.throw('--ami needs --ami-config');
    expect(() => buildServerConfig({ ...defaultValues(), amiConfig: 'manager.conf' })).to.throw('--ami-config has no effect');
  });
});

describe('config: the sample presenced.conf and docs/CONFIG.md', () => {
  it('are what the option table generates (run `npm run docs:config` after changing an option)', () => {
    expect(readFileSync(SAMPLE_CONFIG_PATH, 'utf8')).to.equal(renderSampleConfig());
    const doc = readFileSync(CONFIG_DOC_PATH, 'utf8');
    expect(doc).to.equal(withOptionTable(doc));
  });

  it('name every option in its section, and every value they show is valid', () => {
    const sample = readFileSync(SAMPLE_CONFIG_PATH, 'utf8');
    for (const spec of SPECS) {
      const section = sample.slice(sample.indexOf(`[${spec.section}]`)).split(/^\[/m)[1];
      expect(section, `${spec.flag} in [${spec.section}]`).to.match(new RegExp(`^;${fileKey(spec)} =`, 'm'));
    }
    const file = path.join(tmpdir(), `presenced-sample-${process.pid}.conf`);
    writeFileSync(file, sample.replace(/^;(?=[a-z][a-z0-9-]* = \S)/gm, ''));
    const shown = Object.keys(readConfigFile(file));
    expect(shown.length).to.be.above(SPECS.length / 2);
  });
});
