// The option table and the configuration built from it.
import { expect } from 'chai';
import { defaultValues } from '../../lib/config/command-line.js';
import { fileKey, OPTIONS, type OptionSpec } from '../../lib/config/options.js';
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
  });

  it('refuses option combinations that cannot run, naming the options', () => {
    expect(() => buildServerConfig({ ...defaultValues(), udp: undefined, tcp: undefined })).to.throw('every transport is off');
    expect(() => buildServerConfig({ ...defaultValues(), wss: { host: '0.0.0.0', port: 8089 } })).to.throw('--wss needs --tls-cert FILE and --tls-key FILE');
    expect(() => buildServerConfig({ ...defaultValues(), tlsCert: 'pbx.crt' })).to.throw('--tls-cert and --tls-key go together');
    expect(() => buildServerConfig({ ...defaultValues(), minExpires: 600, maxExpires: 60 })).to.throw('--min-expires must not exceed --max-expires');
    expect(() => buildServerConfig({ ...defaultValues(), ami: { host: '127.0.0.1', port: 5038 } })).to.throw('--ami needs --ami-config');
    expect(() => buildServerConfig({ ...defaultValues(), amiConfig: 'manager.conf' })).to.throw('--ami-config has no effect');
  });
});
