// presenced.conf and the data directory: which file is read, flags over the file, file:line errors, and both
// programs finding the same data directory from anywhere.
import { expect } from 'chai';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeDir, runProgram, startServer, type PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';

const VERSION = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;

describe('integration: presenced.conf and the data directory', function () {
  let dir: string;
  const servers: PresenceServer[] = [];

  beforeEach(async function () {
    dir = await makeTempDir('presenced-config-');
    await copyFile('fixtures/integration/presence.conf', path.join(dir, 'hints.conf'));
  });
  afterEach(async function () {
    for (const server of servers.splice(0)) await server.stop();
    await removeDir(dir);
  });

  async function writeConf(text: string): Promise<string> {
    const file = path.join(dir, 'presenced.conf');
    await writeFile(file, text);
    return file;
  }

  async function minExpiresOf(server: PresenceServer): Promise<string | undefined> {
    const client = await openClient('UDP', server);
    try {
      const { response } = await client.subscribe({ expires: 90 });
      return response.status === 423 ? response.header('Min-Expires') : String(response.status);
    } finally {
      await client.close();
    }
  }

  const CONF = '[general]\ndialplan = hints.conf   ; relative to this file\ndata = state\n\n[sip]\nmin-expires = 120\n';

  it('takes the dialplan, the data directory and SIP options from --conf, paths relative to the file', async function () {
    const conf = await writeConf(CONF);
    const server = await startServer({ noConfigFlag: true, noDataFlag: true, dataDir: path.join(dir, 'state'), args: ['--conf', conf] });
    servers.push(server);
    expect(server.hints).to.equal(6);
    expect(await minExpiresOf(server)).to.equal('120');
    const listing = await server.cli(['list']);
    expect(listing.code, listing.stderr).to.equal(0);
  });

  it('lets a flag override the file', async function () {
    const conf = await writeConf(CONF);
    const server = await startServer({ noConfigFlag: true, args: ['--conf', conf, '--min-expires', '60'] });
    servers.push(server);
    expect(await minExpiresOf(server)).to.equal('200');
  });

  it('reads $PRESENCED_CONF when no --conf is given, and the CLI finds the data directory through it', async function () {
    const conf = await writeConf(CONF);
    const env = { PRESENCED_CONF: conf };
    const server = await startServer({ noConfigFlag: true, noDataFlag: true, dataDir: path.join(dir, 'state'), env });
    servers.push(server);
    expect(await minExpiresOf(server)).to.equal('120');
    const change = await runProgram('presencestate', ['change', 'CustomPresence:6002', 'away'], { env, cwd: '/' });
    expect(change.code, change.stderr).to.equal(0);
    expect(change.stdout).to.equal('Changing 6002 to away\n');
  });

  it('reaches the daemon from any directory: both programs default to the same per-user data directory', async function () {
    const env = { XDG_STATE_HOME: path.join(dir, 'xdg') };
    const started = path.join(dir, 'started-here');
    await mkdir(started);
    const server = await startServer({ noDataFlag: true, dataDir: path.join(dir, 'xdg', 'presenced'), env, cwd: started });
    servers.push(server);
    const change = await runProgram('presencestate', ['change', 'CustomPresence:2000', 'dnd'], { env, cwd: '/' });
    expect(change.code, change.stderr).to.equal(0);
    const listing = await runProgram('presencestate', ['list'], { env, cwd: dir });
    expect(listing.code, listing.stderr).to.equal(0);
    expect(listing.stdout).to.include("--- Name: 'CustomPresence:2000'\n    --- State: 'dnd'");
  });

  it('prefers $PRESENCED_DATA to the file, and --data to both', async function () {
    const conf = await writeConf(CONF);
    const fromEnv = path.join(dir, 'from-env');
    const server = await startServer({ noConfigFlag: true, noDataFlag: true, dataDir: fromEnv, env: { PRESENCED_CONF: conf, PRESENCED_DATA: fromEnv } });
    servers.push(server);
    const viaEnv = await runProgram('presencestate', ['list'], { env: { PRESENCED_CONF: conf, PRESENCED_DATA: fromEnv } });
    expect(viaEnv.code, viaEnv.stderr).to.equal(0);
    const viaFlag = await runProgram('presencestate', ['--data', fromEnv, 'list'], { env: { PRESENCED_CONF: conf, PRESENCED_DATA: path.join(dir, 'elsewhere') } });
    expect(viaFlag.code, viaFlag.stderr).to.equal(0);
    const viaFile = await runProgram('presencestate', ['list'], { env: { PRESENCED_CONF: conf } });
    expect(viaFile.code).to.equal(1);
    expect(viaFile.stderr).to.include(path.join(dir, 'state'));
  });

  const BAD_FILES: [string, string, RegExp][] = [
    ['an unknown key', '[general]\ncontext = default\n\n[sip]\nupd = 127.0.0.1:5060\n', /presenced\.conf:5: unknown key "upd" in \[sip\]/],
    ['a key in the wrong section', '[general]\nudp = 127.0.0.1:5060\n', /presenced\.conf:2: unknown key "udp" in \[general\] \(it belongs in \[sip\]\)/],
    ['a bad value', '[sip]\n\nmin-expires = soon\n', /presenced\.conf:3: min-expires = soon: expected a whole number of seconds/],
    ['an unknown section', '[sipp]\nudp = off\n', /presenced\.conf:1: unknown section \[sipp\]/],
    ['an entry outside any section', 'udp = off\n', /presenced\.conf:1: "udp" is outside any section/],
    ['a line that is not an entry', '[sip]\nudp\n', /presenced\.conf:2: expected "name => value"/],
  ];
  for (const [what, text, message] of BAD_FILES) {
    it(`refuses to start on ${what}, naming file:line`, async function () {
      const conf = await writeConf(text);
      const result = await runProgram('presenced', ['--conf', conf, '--udp', '127.0.0.1:0', '--tcp', 'off', '--data', dir]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(message);
      expect(result.stdout).to.equal('');
    });
  }

  it('refuses a config file that was named but does not exist, by flag or by environment', async function () {
    const missing = path.join(dir, 'nope.conf');
    const byFlag = await runProgram('presenced', ['--conf', missing, '--data', dir]);
    expect(byFlag.code).to.equal(1);
    expect(byFlag.stderr).to.include(`cannot read config file ${missing}: ENOENT`);
    const byEnv = await runProgram('presencestate', ['list'], { env: { PRESENCED_CONF: missing } });
    expect(byEnv.code).to.equal(1);
    expect(byEnv.stderr).to.include(`cannot read config file ${missing}: ENOENT`);
  });

  it('serves the bundled sample only with a warning when no dialplan is named and ./extensions.conf is missing', async function () {
    const server = await startServer({ noConfigFlag: true, cwd: dir });
    servers.push(server);
    expect(server.stderr()).to.match(/WARN.*no dialplan named.*bundled sample .*fixtures\/extensions\.conf/);
  });

  it('uses ./extensions.conf without a warning when it exists', async function () {
    await copyFile('fixtures/integration/presence.conf', path.join(dir, 'extensions.conf'));
    const server = await startServer({ noConfigFlag: true, cwd: dir });
    servers.push(server);
    expect(server.hints).to.equal(6);
    expect(server.stderr()).not.to.include('bundled sample');
  });

  it('prints the version with --version, both programs', async function () {
    for (const program of ['presenced', 'presencestate'] as const) {
      const result = await runProgram(program, ['--version']);
      expect(result.code).to.equal(0);
      expect(result.stdout).to.equal(`${VERSION}\n`);
    }
  });
});
