// D4: a reload with a binary, empty or truncated dialplan (or AMI users file) keeps what was loaded, and says why;
// nothing is terminated. An empty dialplan is taken only when --allow-empty-dialplan says so.
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { RawAmi } from '../helpers/raw-ami.js';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';
import type { WatcherDialog } from '../helpers/sip-client.js';
import { subscriptionState } from '../helpers/wire.js';

const DIALPLAN = 'fixtures/integration/presence.conf';

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('integration: reload guard (D4)', function () {
  this.timeout(30000);
  let workDir: string;
  let amiUsers: string;
  let server: PresenceServer;
  let client: UdpSipClient;
  let watcher: WatcherDialog;

  before(async function () {
    workDir = await makeTempDir('presenced-itest-reload-');
    amiUsers = path.join(workDir, 'manager.conf');
    await copyFile(path.resolve('fixtures/ami/manager.conf'), amiUsers);
    server = await startServer({ amiConfig: amiUsers });
    client = await UdpSipClient.open(server.udpPort);
    watcher = await client.subscribeDialog({ user: '6002' });
    expect(subscriptionState(await watcher.nextNotify()).state).to.equal('active');
  });

  after(async function () {
    await client?.close();
    await server?.stop();
    await removeDir(workDir);
  });

  const bad: Array<[string, () => Promise<Buffer | string>, string]> = [
    ['a binary file', async () => Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\x00'), randomBytes(4096)]), 'is not a text file'],
    ['an empty file', async () => '', 'has no hints'],
    ['a truncated file', async () => (await readFile(path.resolve(DIALPLAN))).subarray(0, 60), 'has no hints'],
  ];

  let refusals = 0;
  for (const [what, content, reason] of bad) {
    it(`keeps the previous dialplan when SIGHUP finds ${what}, and terminates no one`, async function () {
      await writeFile(server.configFile, await content());
      server.signal('SIGHUP');
      refusals++;
      await eventually(() => occurrences(server.stderr(), 'keeping the previous dialplan (6 hints)') === refusals, 8000, 'the refused reload in the log');
      expect(server.stderr()).to.include(reason);
      await watcher.expectNoNotify();
      const hints = await server.cli(['hints']);
      expect(hints.stdout).to.include('6002@default');
      expect((await client.subscribe({ user: '7000' })).response.status).to.equal(200);
    });
  }

  it('keeps the AMI users when manager.conf is emptied', async function () {
    await writeFile(amiUsers, '');
    server.signal('SIGHUP');
    await eventually(() => server.stderr().includes('defines no AMI users; keeping the previous AMI users'), 8000, 'the refused AMI reload');
    const ami = await RawAmi.login(server.amiPort);
    ami.close();
  });

  it('refuses to start on a dialplan that is not text or has no hints', async function () {
    const binary = path.join(workDir, 'binary.conf');
    await writeFile(binary, Buffer.concat([Buffer.from('[default]\n'), Buffer.alloc(64)]));
    await startServer({ config: binary }).then(() => expect.fail('started'), (error: Error) => expect(error.message).to.include('is not a text file'));
    const empty = path.join(workDir, 'empty.conf');
    await writeFile(empty, '[default]\n');
    await startServer({ config: empty }).then(() => expect.fail('started'), (error: Error) => expect(error.message).to.include('has no hints'));
  });
});

describe('integration: --allow-empty-dialplan yes (D4)', function () {
  it('takes an empty dialplan on reload: its watchers end with noresource', async function () {
    const server = await startServer({ args: ['--allow-empty-dialplan', 'yes'] });
    const client = await UdpSipClient.open(server.udpPort);
    try {
      const watcher = await client.subscribeDialog({ user: '6002' });
      await watcher.nextNotify();
      await writeFile(server.configFile, '');
      server.signal('SIGHUP');
      expect(subscriptionState(await watcher.nextNotify(8000))).to.include({ state: 'terminated', reason: 'noresource' });
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
