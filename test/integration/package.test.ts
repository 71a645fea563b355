// The npm package as an admin installs it: `npm pack` of this checkout, installed into an empty temporary prefix
// from the tarball with only its declared dependencies, then the installed `presenced` started and reached by the
// installed `presencestate` over its control socket and by HTTP. Runs without the network when npm's cache holds
// the dependencies (as after `npm ci`); the lock file pins them to the checkout's versions.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ApiClient } from '../helpers/http-client.js';
import { makeTempDir, removeDir } from '../helpers/server.js';
import type { CliResult } from '../helpers/server.js';

const run = promisify(execFile);
const REPO = process.cwd();

interface LockEntry { dev?: boolean; link?: boolean; [field: string]: unknown }
interface Lock { packages: Record<string, LockEntry> }

/**
 * A lock file for a project depending on the tarball alone: the tarball's entry and the checkout's non-development
 * packages, so `npm ci` installs exactly those versions and nothing a test or a bench uses.
 */
async function lockFor(tarball: string, manifest: { version: string; dependencies: Record<string, string>; bin: Record<string, string> }): Promise<Lock> {
  const checkout = JSON.parse(await readFile(path.join(REPO, 'package-lock.json'), 'utf8')) as Lock;
  const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  const packages: Record<string, LockEntry> = {
    '': { name: 'install-check', dependencies: { presenced: `file:${tarball}` } },
    'node_modules/presenced': { version: manifest.version, resolved: `file:${tarball}`, integrity, dependencies: manifest.dependencies, bin: manifest.bin },
  };
  for (const [where, entry] of Object.entries(checkout.packages)) {
    if (where !== '' && !entry.dev && !entry.link) packages[where] = entry;
  }
  return { name: 'install-check', lockfileVersion: 3, requires: true, packages } as Lock;
}

function runInstalled(bin: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PRESENCED_CONF: '/dev/null', PRESENCED_DATA: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('integration: the npm package', function () {
  this.timeout(180000);
  let work: string;

  before(async function () {
    work = await makeTempDir('presenced-package-');
  });

  after(async function () {
    if (work) await removeDir(work);
  });

  it('packs what runs and nothing else, installs from the tarball, and its programs start and talk', async function () {
    // dist/ is built by `npm test`; prepack (a clean build) is what `npm pack` runs for a release.
    const { stdout: packed } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO });
    const [{ filename, files }] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = files.map((file) => file.path);
    expect(paths).to.include.members(['LICENSE', 'README.md', 'bin/presenced', 'bin/presencestate', 'bin/devicestate', 'dist/lib/cli/presenced.js',
      'lib/control/http/page/index.html', 'fixtures/extensions.conf', 'fixtures/presenced.conf', 'docs/OPERATIONS.md']);
    expect(paths.filter((file) => /^(dist\/)?(test|bench|scripts)\//.test(file) || file.endsWith('.ts') || file.startsWith('fixtures/integration'))).to.deep.equal([]);

    const tarball = path.join(work, filename);
    const manifest = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as Parameters<typeof lockFor>[1] & { devDependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.to.include('sip.js');
    const prefix = path.join(work, 'prefix');
    await mkdir(prefix);
    await writeFile(path.join(prefix, 'package.json'), JSON.stringify({ name: 'install-check', private: true, dependencies: { presenced: `file:${tarball}` } }));
    await writeFile(path.join(prefix, 'package-lock.json'), JSON.stringify(await lockFor(tarball, manifest)));
    // No install scripts: the one native addon, better-sqlite3's, is the checkout's build of the same version
    // rather than a minute of compiling.
    await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: prefix });
    const addon = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    await mkdir(path.dirname(path.join(prefix, addon)), { recursive: true });
    await copyFile(path.join(REPO, addon), path.join(prefix, addon));
    for (const devOnly of Object.keys(manifest.devDependencies)) {
      await readFile(path.join(prefix, 'node_modules', devOnly, 'package.json')).then(
        () => expect.fail(`${devOnly}, a development dependency, was installed`), () => undefined);
    }

    const bin = (name: string): string => path.join(prefix, 'node_modules', '.bin', name);
    for (const program of ['presenced', 'presencestate', 'devicestate']) {
      const version = await runInstalled(bin(program), ['--version']);
      expect(version, program).to.deep.equal({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
    }

    // No dialplan named: the installed package's bundled sample is served (with its warning).
    const data = path.join(work, 'data');
    const daemon = spawn(bin('presenced'), ['--udp', '127.0.0.1:0', '--tcp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', data, '--log-format', 'json'], {
      cwd: work, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PRESENCED_CONF: '/dev/null', PRESENCED_DATA: '' },
    });
    let stderr = '';
    daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    try {
      const listening = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const line = /^presenced listening on .*$/m.exec(stdout);
          if (line) resolve(line[0]);
        });
        void exited.then(() => reject(new Error(`the installed presenced exited:\n${stderr}`)));
      });
      expect(stderr).to.include(path.join(prefix, 'node_modules', 'presenced', 'fixtures', 'extensions.conf'));
      const change = await runInstalled(bin('presencestate'), ['--data', data, 'change', 'CustomPresence:6001', 'away,,installed']);
      expect(change).to.deep.equal({ code: 0, stdout: 'Changing 6001 to away\n', stderr: '' });
      const list = await runInstalled(bin('presencestate'), ['--data', data, '--json', 'list']);
      expect(JSON.parse(list.stdout)).to.deep.include({ name: '6001', state: 'away', subtype: '', message: 'installed', base64: false, source: 'setting' });
      const api = new ApiClient(Number(/http:127\.0\.0\.1:(\d+)/.exec(listening)![1]));
      expect((await api.request('/healthz')).status).to.equal(200);
      const page = await api.request('/');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('<html');
    } finally {
      daemon.kill('SIGTERM');
      await exited;
    }
  });
});

describe('the systemd unit (docs/deploy/presenced.service)', function () {
  it('is a unit systemd accepts, running presenced as its own user with the bind capability, a state directory and reload', async function () {
    const unit = await readFile(path.join(REPO, 'docs', 'deploy', 'presenced.service'), 'utf8');
    for (const line of ['User=presenced', 'StateDirectory=presenced', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'ExecReload=/bin/kill -HUP $MAINPID',
      'ExecStart=/usr/bin/presenced --conf /etc/presenced/presenced.conf']) {
      expect(unit.split('\n'), line).to.include(line);
    }
    // Checked with this checkout's program in place of the installed one.
    const work = await makeTempDir('presenced-unit-');
    try {
      const copy = path.join(work, 'presenced.service');
      await writeFile(copy, unit.replace('ExecStart=/usr/bin/presenced', `ExecStart=${path.join(REPO, 'bin', 'presenced')}`));
      const { stdout, stderr } = await run('systemd-analyze', ['verify', copy], { cwd: work });
      expect(stdout + stderr).to.equal('');
    } finally {
      await removeDir(work);
    }
  });
});
