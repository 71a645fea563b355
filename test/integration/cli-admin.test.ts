// The administrator's commands of presencestate against a running daemon, over its control socket: reload, one hint,
// publications and their removal, subscriptions of one resource and kicking one, where each listed state comes from,
// and --json for scripts. Every effect is checked on the wire (NOTIFYs, PUBLISH answers) and in the exit status.
import { execFile } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { digiumState, effectivePresence, publish, rpidBody } from '../helpers/publish.js';
import { makeTempDir, removeDir, runProgram, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';
import type { SipClient, SubscribeOptions, WatcherDialog } from '../helpers/sip-client.js';

const DIALPLAN_WITH_7777 = `[default]
exten => 6002,hint,PJSIP/6002,CustomPresence:6002
exten => 6003,hint,PJSIP/6003,CustomPresence:6002
exten => 2000,hint,,CustomPresence:2000
exten => 7777,hint,PJSIP/7777,CustomPresence:7777
include => shared

[shared]
exten => 7000,hint,PJSIP/7000,CustomPresence:7000
`;

describe('integration: presencestate admin commands', function () {
  let server: PresenceServer;
  let client: SipClient;

  async function watch(options: SubscribeOptions): Promise<WatcherDialog> {
    const { response, dialog } = await client.subscribe({ userAgent: 'Digium D65', ...options });
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    await dialog.nextNotify();
    return dialog;
  }

  async function cliOk(args: string[]): Promise<string> {
    const result = await server.cli(args);
    expect(result.code, `presencestate ${args.join(' ')}: ${result.stderr}`).to.equal(0);
    return result.stdout;
  }

  async function cliJson<T>(args: string[]): Promise<T> {
    return JSON.parse(await cliOk(['--json', ...args])) as T;
  }

  async function cliFails(args: string[], message: RegExp): Promise<void> {
    const result = await server.cli(args);
    expect(result.code, `presencestate ${args.join(' ')} should fail`).to.equal(1);
    expect(result.stderr).to.match(message);
  }

  before(async function () {
    // info: the audit line of each change is checked.
    server = await startServer({ logLevel: 'info' });
    client = await openClient('UDP', server);
  });

  after(async function () {
    await client?.close();
    await server?.stop();
  });

  describe('hints EXTEN', function () {
    it('shows the hints starting with EXTEN, like `core show hint`', async function () {
      const output = await cliOk(['hints', '600']);
      expect(output).to.match(/^6002@default +: PJSIP\/6002,CustomPre/m);
      expect(output).to.match(/^6003@default +: /m);
      expect(output).to.match(/^2 hints matching extension 600$/m);
      expect(output).not.to.include('2000@default');
    });

    it('shows the hint a SUBSCRIBE would get through an include', async function () {
      const output = await cliOk(['hints', '7000@default']);
      expect(output).to.match(/^7000@shared +: PJSIP\/7000/m);
      expect(output).to.match(/^1 hint matching extension 7000@default$/m);
    });

    it('fails with a message for an extension without a hint', async function () {
      await cliFails(['hints', '5555'], /^No hints matching extension 5555$/m);
      await cliFails(['hints', '8000@default'], /No hints matching extension 8000@default/);
      await cliFails(['hints', '@default'], /an extension is needed/);
    });
  });

  describe('publications', function () {
    it('lists a PUBLISHed state, shows it in list and hints alike, and removes it: watchers fall back to the setting', async function () {
      await cliOk(['change', 'CustomPresence:6002', 'available,,at my desk']);
      const watcher = await watch({ user: '6002', fromUser: 'admin-pub-watcher' });
      const published = await publish(client, { body: rpidBody('busy', 'on the phone'), expires: 900 });
      expect(published.status).to.equal(200);
      const etag = published.header('SIP-ETag')!;
      expect(digiumState(await watcher.nextNotify())?.type).to.equal('dnd');

      const table = await cliOk(['publications']);
      const row = table.split('\n').find((line) => line.startsWith(etag));
      expect(row, table).to.match(new RegExp(`^${etag} +CustomPresence:6002 +dnd +yes +sip:6002@127\\.0\\.0\\.1`));
      expect(Number(row!.trim().split(/ +/).at(-1))).to.be.within(880, 900);
      expect(table).to.match(/^1 live publication$/m);
      const [json] = await cliJson<Array<Record<string, unknown>>>(['publications']);
      expect(json).to.deep.include({ etag, entity: 'CustomPresence:6002', state: 'dnd', message: 'on the phone', effective: true });

      // list and hints agree: the effective state, and list says it comes from the PUBLISH.
      const listing = await cliOk(['list']);
      const block = listing.split(/(?=--- Name:)/).find((part) => part.includes("'CustomPresence:6002'"));
      expect(block).to.match(/State: 'dnd'/).and.to.include(`Source: 'PUBLISH ${etag} from sip:6002@127.0.0.1`);
      expect(await effectivePresence(server, '6002')).to.equal('dnd');

      expect(await cliOk(['publication', 'remove', etag])).to.equal(`Removed publication ${etag} of CustomPresence:6002\n`);
      expect(digiumState(await watcher.nextNotify())).to.deep.equal({ type: 'available', subtype: '', text: 'at my desk' });
      expect(await cliOk(['publications'])).to.match(/^0 live publications$/m);
      const after = (await cliOk(['list'])).split(/(?=--- Name:)/).find((part) => part.includes("'CustomPresence:6002'"));
      expect(after).to.match(/State: 'available'/).and.to.include("Source: 'CLI/AMI'");
      expect(server.stderr()).to.match(/state: CustomPresence:6002 is available \(by cli\)/);

      // The phone's refresh of the removed publication is answered 412 (RFC 3903 §6): it publishes anew.
      const refresh = await publish(client, { etag, expires: 900 });
      expect(refresh.status).to.equal(412);
      await cliFails(['publication', 'remove', etag], new RegExp(`^No live publication with entity-tag ${etag}`));
    });
  });

  describe('subscriptions', function () {
    it('lists the subscriptions of one resource and kicks one with terminated;reason=deactivated', async function () {
      const kicked = await watch({ user: '2000', fromUser: 'admin-kick-me' });
      const kept = await watch({ user: '2000', fromUser: 'admin-keep-me' });
      await watch({ user: '6003', fromUser: 'admin-other' });

      const table = await cliOk(['subscriptions', '--resource', '2000']);
      const rows = table.split('\n').filter((line) => line.includes('admin-'));
      expect(rows).to.have.length(2);
      expect(rows.find((line) => line.includes('admin-kick-me'))).to.match(new RegExp(`^${kicked.toTag} +2000@default +presence +sip:admin-kick-me@`));
      const withoutExpiry = (listing: string): string => listing.replace(/ +\d+$/gm, '');
      expect(withoutExpiry(await cliOk(['subscriptions', '--resource', '2000@default']))).to.equal(withoutExpiry(table));
      const json = await cliJson<Array<{ id: string; resource: string; watcher: string }>>(['subscriptions', '--resource', '6003']);
      expect(json.map((row) => [row.resource, row.watcher.split('@')[0]])).to.deep.equal([['6003@default', 'sip:admin-other']]);

      const kick = await cliOk(['subscription', 'kick', kicked.toTag]);
      expect(kick).to.match(new RegExp(`^Ended subscription ${kicked.toTag} of sip:admin-kick-me@127\\.0\\.0\\.1 to 2000@default\\n$`));
      const final = await kicked.nextNotify();
      expect(final.header('Subscription-State')).to.equal('terminated;reason=deactivated');
      const remaining = await cliOk(['subscriptions', '--resource', '2000']);
      expect(remaining).not.to.include('admin-kick-me');
      expect(remaining).to.include('admin-keep-me');
      await kept.expectNoNotify(300);

      await cliFails(['subscription', 'kick', kicked.toTag], new RegExp(`^No active subscription with ID ${kicked.toTag}`));
      await cliFails(['subscription', 'kick'], /missing required argument 'id'/);
      expect(await cliOk(['subscriptions', '--resource', '5555'])).to.equal('ID  Resource  Event  Watcher  User-Agent  Transport  Expires\n0 active subscriptions\n');
    });
  });

  describe('reload', function () {
    it('re-reads the dialplan and prints what it read; a broken one is refused and the old one kept', async function () {
      const watcher = await watch({ user: '7000', fromUser: 'admin-reload-watcher' });
      await writeFile(server.configFile, DIALPLAN_WITH_7777);
      expect(await cliOk(['reload'])).to.equal(`Reloaded dialplan: 5 hints from ${server.configFile}\n`);
      expect(await cliOk(['hints', '7777'])).to.match(/^7777@default +: PJSIP\/7777/m);
      // The watcher's hint is unchanged: no NOTIFY.
      await watcher.expectNoNotify(300);

      await writeFile(server.configFile, '[default]\nexten => 6002,1,Dial(PJSIP/6002)\n');
      const refused = await server.cli(['reload']);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.equal(`Not reloaded dialplan: ${server.configFile} has no hints (start with --allow-empty-dialplan yes if that is intended); keeping the previous dialplan\n`);
      expect(await cliOk(['hints'])).to.match(/- 5 hints registered/);
      await watcher.expectNoNotify(300);
      expect((await cliJson<unknown[]>(['hints'])).length).to.equal(5);
    });
  });

  describe('--json', function () {
    it('prints every listing as JSON', async function () {
      await cliOk(['change', 'CustomPresence:9000', 'dnd,meeting,Quarterly review']);
      const list = await cliJson<Array<Record<string, unknown>>>(['list']);
      expect(list.find((row) => row.name === '9000')).to.deep.equal({
        name: '9000', state: 'dnd', subtype: 'meeting', message: 'Quarterly review', base64: false, source: 'setting',
      });
      const [hint] = await cliJson<Array<Record<string, unknown>>>(['hints', '2000']);
      expect(hint).to.deep.include({ exten: '2000', context: 'default', hint: ',CustomPresence:2000', deviceState: 'Idle' });
      const stats = await cliJson<Array<[string, string]>>(['stats']);
      expect(stats).to.deep.include(['Hints', '5']);
      // The option may follow the command too.
      expect(JSON.parse(await cliOk(['list', '--json']))).to.deep.equal(await cliJson(['list']));
      const change = await server.devicestate(['--json', 'change', 'Custom:2000', 'BUSY']);
      expect(JSON.parse(change.stdout)).to.deep.equal({ name: '2000', stateText: 'BUSY' });
      const devices = await server.devicestate(['--json', 'list']);
      expect(JSON.parse(devices.stdout)).to.deep.include({ device: 'Custom:2000', state: 'BUSY' });
    });
  });
});

describe('integration: --control-group', function () {
  // Reaching the socket as another user needs root to switch users.
  before(function () {
    if (process.getuid?.() !== 0) this.skip();
  });

  /**
   * Sends `list` over the control socket as user nobody with only the group `gid`: the answer, or why the
   * connection failed (EACCES). It enters the data directory first, so that only the directory's and the socket's
   * own permissions count, not those of the temporary directories above them.
   */
  function listAs(gid: number, dataDir: string): Promise<string> {
    const script = `
      process.chdir(${JSON.stringify(dataDir)});
      process.setgroups([]); process.setgid(${gid}); process.setuid(65534);
      const socket = require('node:net').connect('presenced.sock');
      let answer = '';
      socket.on('connect', () => socket.write('{"command":"list"}\\n'));
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('end', () => process.stdout.write(answer));
      socket.on('error', (error) => process.stdout.write(error.code));`;
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', script], (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
    });
  }

  it('lets members of the group use the control socket, and nobody else', async function () {
    const parent = await makeTempDir();
    const dataDir = path.join(parent, 'data');
    const server = await startServer({ dataDir, args: ['--control-group', 'daemon'] });
    try {
      const socket = await stat(path.join(dataDir, 'presenced.sock'));
      expect({ mode: socket.mode & 0o777, gid: socket.gid }).to.deep.equal({ mode: 0o660, gid: 1 });
      const directory = await stat(dataDir);
      expect({ mode: directory.mode & 0o777, gid: directory.gid }).to.deep.equal({ mode: 0o710, gid: 1 });
      expect((await stat(path.join(dataDir, 'presenced.sqlite'))).mode & 0o077).to.equal(0);

      expect(JSON.parse(await listAs(1, dataDir))).to.deep.equal({ ok: true, result: [] });
      expect(await listAs(65534, dataDir)).to.equal('EACCES');
      expect((await server.cli(['list'])).code).to.equal(0);
    } finally {
      await server.stop();
      await removeDir(parent);
    }
  });

  it('refuses to start with a group the system does not have', async function () {
    const result = await runProgram('presenced', ['--control-group', 'no-such-group-here', '--udp', '127.0.0.1:0', '--tcp', 'off']);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal("presenced: --control-group: no group named 'no-such-group-here' on this system\n");
  });
});

describe('integration: one presenced per data directory', function () {
  it('stops a second daemon on the same data directory before it opens the store or notifies anyone', async function () {
    const first = await startServer();
    const client = await openClient('UDP', first);
    try {
      const { dialog } = await client.subscribe({ user: '6002', fromUser: 'lock-watcher' });
      await dialog!.nextNotify();
      const second = await runProgram('presenced', ['--config', first.configFile, '--data', first.dataDir, '--udp', '127.0.0.1:0', '--tcp', 'off']);
      expect(second.code).to.equal(1);
      expect(second.stderr.split('\n').at(-2)).to.equal(`presenced: another presenced is already running with this data directory (${path.join(first.dataDir, 'presenced.sock')} answers)`);
      // Had it restored the stored subscriptions, the watcher would have had a NOTIFY from it.
      await dialog!.expectNoNotify(500);
      expect((await first.cli(['subscriptions', '--resource', '6002'])).stdout).to.include('sip:lock-watcher@');
    } finally {
      await client.close();
      await first.stop();
    }
  });
});
