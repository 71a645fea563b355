// Device state and busy-lamp fields: `devicestate`, the real extension state of hints, and the dialog event package
// (RFC 4235) over real sockets, each NOTIFY body validated against fixtures/schema/dialog-info.xsd.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { freePort, makeTempDir, removeDir, runCli, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';
import type { SipClient, WatcherDialog } from '../helpers/sip-client.js';
import { dialogInfoSchemaErrors, parseDialogInfo, type DialogInfo } from '../helpers/dialog-info.js';
import { eventHeader, parsePidf, subscriptionState, type SipMessage } from '../helpers/wire.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { publish } from '../helpers/publish.js';

const DIALOG = { Event: 'dialog', Accept: 'application/dialog-info+xml' };

function readDialog(notify: SipMessage): DialogInfo {
  expect(eventHeader(notify).event).to.equal('dialog');
  expect(notify.header('Content-Type')).to.equal('application/dialog-info+xml');
  expect(dialogInfoSchemaErrors(notify.body), notify.body).to.equal('');
  return parseDialogInfo(notify.body);
}

describe('integration: device state and BLF', function () {
  this.timeout(30000);

  describe('devicestate, hints and the dialog package', function () {
    let server: PresenceServer;
    let client: SipClient;

    before(async function () {
      server = await startServer({ config: 'fixtures/integration/blf.conf' });
      client = await openClient('UDP', server);
    });

    after(async function () {
      await client?.close();
      await server?.stop();
    });

    async function devicestate(device: string, state: string): Promise<void> {
      const result = await server.devicestate(['change', device, state]);
      expect(result.code, result.stderr).to.equal(0);
    }

    async function watchDialog(user: string): Promise<{ dialog: WatcherDialog; first: DialogInfo }> {
      const dialog = await client.subscribeDialog({ user, set: DIALOG });
      return { dialog, first: readDialog(await dialog.nextNotify()) };
    }

    function hintLine(listing: string, exten: string): string {
      return listing.split('\n').find((line) => line.startsWith(`${exten}@default`)) ?? '';
    }

    it('changes a Custom: device like Asterisk ("Changing 2000 to INUSE") and lists it like `devicestate list`', async function () {
      const result = await server.devicestate(['change', 'Custom:2001', 'inuse']);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.equal('Changing 2001 to inuse\n');
      const list = await server.devicestate(['list']);
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.contain("--- Custom Device States ---").and.to.contain("--- Name: 'Custom:2001'  State: 'INUSE'\n---\n");
      const hints = await server.cli(['hints']);
      expect(hintLine(hints.stdout, '2001')).to.match(/State:InUse /);
      await devicestate('Custom:2001', 'NOT_INUSE');
    });

    it('refuses other devices, empty names and unknown states with a message and a non-zero exit, storing nothing', async function () {
      const before = (await server.devicestate(['list'])).stdout;
      const refusals: Array<[string[], RegExp]> = [
        [['change', 'PJSIP/2000', 'INUSE'], /only be used to set 'Custom:' device state/],
        [['change', 'Custom:', 'INUSE'], /Missing custom device name/],
        [['change', 'Custom:2000', 'SLEEPING'], /Unknown device state 'SLEEPING'/],
      ];
      for (const [args, message] of refusals) {
        const result = await server.devicestate(args);
        expect(result.code, args.join(' ')).to.equal(1);
        expect(result.stderr).to.match(message);
        expect(result.stdout).to.equal('');
      }
      expect((await server.devicestate(['list'])).stdout).to.equal(before);
    });

    it('says so when no daemon answers', async function () {
      const empty = await makeTempDir();
      try {
        const result = await runCli(empty, ['list'], {}, 'devicestate');
        expect(result.code).to.equal(1);
        expect(result.stderr).to.match(/^devicestate: /);
      } finally {
        await removeDir(empty);
      }
    });

    it('combines several devices with Asterisk\'s rules in `presencestate hints`', async function () {
      const state = async (): Promise<string> => /State:(\S+)/.exec(hintLine((await server.cli(['hints'])).stdout, '3000'))?.[1] ?? '';
      expect(await state()).to.equal('Idle');
      await devicestate('Custom:3000', 'RINGING');
      expect(await state()).to.equal('Ringing');
      await devicestate('Custom:3001', 'INUSE');
      expect(await state()).to.equal('InUse&Ringing');
      await devicestate('Custom:3000', 'BUSY');
      expect(await state()).to.equal('Busy');
      await devicestate('Custom:3000', 'UNAVAILABLE');
      await devicestate('Custom:3001', 'UNAVAILABLE');
      expect(await state(), 'PJSIP/3002 has no source: it counts as idle').to.equal('Idle');
      await devicestate('Custom:3000', 'NOT_INUSE');
      await devicestate('Custom:3001', 'NOT_INUSE');
    });

    it('sends dialog-info with version 0, 1, 2… and the dialog each state needs', async function () {
      const { dialog, first } = await watchDialog('2000');
      expect(first).to.deep.include({ version: 0, state: 'full', entity: 'sip:2000@127.0.0.1' });
      expect(first.dialogs).to.have.lengthOf(1);
      expect(first.dialogs[0]).to.include({ state: 'terminated', direction: undefined });
      const steps: Array<[string, Partial<DialogInfo['dialogs'][number]>]> = [
        ['RINGING', { state: 'early', direction: 'recipient' }],
        ['INUSE', { state: 'confirmed' }],
        ['ONHOLD', { state: 'confirmed', rendering: 'no' }],
        ['BUSY', { state: 'confirmed', rendering: undefined }],
        ['UNAVAILABLE', { state: 'terminated', note: 'Unavailable' }],
        ['NOT_INUSE', { state: 'terminated', note: undefined }],
      ];
      let version = 0;
      for (const [state, expected] of steps) {
        await devicestate('Custom:2000', state);
        const body = readDialog(await dialog.nextNotify());
        expect(body.version, state).to.equal(++version);
        expect(body.dialogs[0], state).to.include(expected);
      }
    });

    it('never steps a dialog back from confirmed to early: a new ringing call gets a new dialog id', async function () {
      const { dialog } = await watchDialog('2000');
      const seen = new Map<string, string[]>();
      for (const state of ['RINGING', 'INUSE', 'RINGINUSE', 'INUSE', 'NOT_INUSE', 'RINGING', 'NOT_INUSE']) {
        await devicestate('Custom:2000', state);
        const { dialogs: [current] } = readDialog(await dialog.nextNotify());
        seen.set(current!.id, [...(seen.get(current!.id) ?? []), current!.state]);
      }
      for (const [id, phases] of seen) {
        expect(phases.lastIndexOf('early') <= phases.indexOf('confirmed') || !phases.includes('confirmed'), `${id}: ${phases.join(' → ')}`).to.equal(true);
      }
      expect(seen.size, [...seen].map(([id, phases]) => `${id}: ${phases.join(' → ')}`).join('; ')).to.be.at.least(3);
    });

    it('defaults to dialog-info without Accept, answers 406 naming it, and gives a hint without devices an idle body', async function () {
      const plain = await client.subscribe({ user: '2000', set: { Event: 'dialog', Accept: null } });
      expect(plain.response.status).to.equal(200);
      expect(readDialog(await plain.dialog!.nextNotify()).dialogs[0]!.state).to.equal('terminated');
      const refused = await client.subscribe({ user: '2000', set: { Event: 'dialog', Accept: 'application/pidf+xml' } });
      expect(refused.response.status).to.equal(406);
      expect(refused.response.header('Accept')).to.equal('application/dialog-info+xml');
      const presenceOnly = await watchDialog('4000');
      expect(presenceOnly.first.dialogs[0]!.state).to.equal('terminated');
      const unknown = await client.subscribe({ user: '9999', set: DIALOG });
      expect(unknown.response.status).to.equal(404);
    });

    it('tells exactly the dialog watchers of hints containing the device', async function () {
      const lamp2000 = await watchDialog('2000');
      const lamp3000 = await watchDialog('3000');
      const lamp5000 = await watchDialog('5000');
      await devicestate('custom:5000', 'INUSE');
      expect(readDialog(await lamp5000.dialog.nextNotify()).dialogs[0]!.state).to.equal('confirmed');
      await devicestate('Custom:3001', 'RINGING');
      expect(readDialog(await lamp3000.dialog.nextNotify()).dialogs[0]).to.include({ state: 'early', direction: 'recipient' });
      await lamp2000.dialog.expectNoNotify(500);
      await lamp5000.dialog.expectNoNotify(0);
      await devicestate('Custom:3001', 'NOT_INUSE');
      await devicestate('Custom:5000', 'NOT_INUSE');
    });

    it('answers 489 to other events with Allow-Events naming presence and dialog', async function () {
      const { response } = await client.subscribe({ user: '2000', set: { Event: 'message-summary' } });
      expect(response.status).to.equal(489);
      expect(response.headerValues('Allow-Events').map((event) => event.toLowerCase())).to.include.members(['presence', 'dialog']);
    });

    it('shows "On the phone" to PIDF watchers while the presence state leaves the activity to the device', async function () {
      const watcher = await client.subscribeDialog({ user: '5000' });
      await watcher.nextNotify();
      const presence = async (value: string): Promise<void> => {
        const result = await server.cli(['change', 'CustomPresence:5000', value]);
        expect(result.code, result.stderr).to.equal(0);
      };
      await presence('available,,At my desk');
      expect(parsePidf((await watcher.nextNotify()).body).notes).to.deep.equal(['At my desk']);

      await devicestate('Custom:5000', 'INUSE');
      const onThePhone = await watcher.nextNotify();
      expect(onThePhone.body).to.contain('<rpid:activities><rpid:on-the-phone/></rpid:activities>');
      expect(parsePidf(onThePhone.body).notes).to.deep.equal(['On the phone']);
      expect(parsePidf(onThePhone.body).tuples[0]!.basic).to.equal('open');

      await presence('away,,Lunch');
      const away = await watcher.nextNotify();
      expect(away.body).to.contain('<rpid:away/>').and.not.to.contain('on-the-phone');
      expect(parsePidf(away.body).notes).to.deep.equal(['Lunch']);

      await devicestate('Custom:5000', 'BUSY');
      await presence('chat');
      let busy = await watcher.nextNotify();
      // The two changes may arrive as one NOTIFY or two (coalescing): the last one counts.
      if (!busy.body.includes('on-the-phone')) busy = await watcher.nextNotify();
      expect(parsePidf(busy.body).tuples[0]!.basic, 'Busy is closed, as in Asterisk').to.equal('closed');
      expect(parsePidf(busy.body).notes).to.deep.equal(['On the phone']);

      await devicestate('Custom:5000', 'NOT_INUSE');
      const idle = await watcher.nextNotify();
      expect(idle.body).not.to.contain('rpid:activities');
      expect(parsePidf(idle.body).tuples[0]!.basic).to.equal('open');
    });
  });


  describe('AMI', function () {
    let server: PresenceServer;
    let ami: RawAmi;

    before(async function () {
      server = await startServer({ config: 'fixtures/integration/blf.conf', amiConfig: 'fixtures/ami/manager.conf' });
      ami = await RawAmi.login(server.amiPort);
    });

    after(async function () {
      ami?.close();
      await server?.stop();
    });

    it('sets and reads DEVICE_STATE(Custom:…) with Setvar and Getvar, raising DeviceStateChange and ExtensionStatus', async function () {
      const set = await ami.request(['Action: Setvar', 'ActionID: d1', 'Variable: DEVICE_STATE(Custom:2000)', 'Value: BUSY']);
      expect(set.raw).to.equal('Response: Success\r\nActionID: d1\r\nMessage: Variable Set');
      const change = await ami.nextWhere((block) => block.get('Event') === 'DeviceStateChange');
      expect(change.fields.filter(([name]) => name === 'Device' || name === 'State')).to.deep.equal([['Device', 'Custom:2000'], ['State', 'BUSY']]);
      const status = await ami.nextWhere((block) => block.get('Event') === 'ExtensionStatus');
      expect(status.fields.slice(2)).to.deep.equal([['Exten', '2000'], ['Context', 'default'], ['Hint', 'Custom:2000'], ['Status', '2'], ['StatusText', 'Busy']]);
      const read = await ami.request(['Action: Getvar', 'Variable: DEVICE_STATE(Custom:2000)']);
      expect(read.get('Value')).to.equal('BUSY');
      expect((await ami.request(['Action: Getvar', 'Variable: DEVICE_STATE(PJSIP/3002)'])).get('Value')).to.equal('NOT_INUSE');
      const state = await ami.request(['Action: ExtensionState', 'Exten: 2000', 'Context: default']);
      expect([state.get('Status'), state.get('StatusText')]).to.deep.equal(['2', 'Busy']);
      expect((await server.devicestate(['list'])).stdout).to.contain("--- Name: 'Custom:2000'  State: 'BUSY'");
    });

    it('raises DeviceStateChange for a published dialog device and ExtensionStatus for its hint', async function () {
      const phone = await openClient('UDP', server);
      try {
        const body = readFileSync('fixtures/dialog-publish/kamailio-confirmed.xml', 'utf8');
        const published = await publish(phone, { user: '2001', event: 'dialog', contentType: 'application/dialog-info+xml', body });
        expect(published.status).to.equal(200);
        const change = await ami.nextWhere((block) => block.get('Event') === 'DeviceStateChange' && block.get('Device') === 'Dialog:2001@default');
        expect(change.get('State')).to.equal('INUSE');
        const status = await ami.nextWhere((block) => block.get('Event') === 'ExtensionStatus' && block.get('Exten') === '2001');
        expect(status.get('StatusText')).to.equal('InUse');
        expect((await publish(phone, { user: '2001', event: 'dialog', etag: published.header('SIP-ETag')!, expires: 0 })).status).to.equal(200);
        const idle = await ami.nextWhere((block) => block.get('Event') === 'ExtensionStatus' && block.get('Exten') === '2001');
        expect(idle.get('StatusText')).to.equal('Idle');
      } finally {
        await phone.close();
      }
    });

    it('refuses a bad DEVICE_STATE Setvar with an error and stores nothing', async function () {
      for (const [variable, value, message] of [
        ['DEVICE_STATE(PJSIP/2000)', 'BUSY', /only be used to set 'Custom:' device state/],
        ['DEVICE_STATE(Custom:2000)', 'ASLEEP', /Unknown device state 'ASLEEP'/],
        ['DEVICE_STATE()', 'BUSY', /DEVICE_STATE needs a device/],
      ] as const) {
        const refused = await ami.request(['Action: Setvar', `Variable: ${variable}`, `Value: ${value}`]);
        expect(refused.get('Response'), variable).to.equal('Error');
        expect(refused.get('Message'), variable).to.match(message);
      }
      expect((await ami.request(['Action: Getvar', 'Variable: DEVICE_STATE(Custom:2000)'])).get('Value')).to.equal('BUSY');
    });

    it('lists devices with DeviceStateList and real extension states with ExtensionStateList', async function () {
      ami.write('Action: DeviceStateList\r\nActionID: dl\r\n\r\n');
      const items: string[] = [];
      for (;;) {
        const block = await ami.nextWhere((candidate) => candidate.get('ActionID') === 'dl');
        if (block.get('Event') === 'DeviceStateListComplete') {
          expect(block.get('ListItems')).to.equal(String(items.length));
          break;
        }
        if (block.get('Event') === 'DeviceStateChange') items.push(`${block.get('Device')}=${block.get('State')}`);
      }
      expect(items).to.include.members(['Custom:2000=BUSY', 'PJSIP/3002=NOT_INUSE', 'SIP/5000=NOT_INUSE', 'Custom:3001=UNKNOWN']);
      ami.write('Action: ExtensionStateList\r\nActionID: el\r\n\r\n');
      const statuses = new Map<string, string>();
      for (;;) {
        const block = await ami.nextWhere((candidate) => candidate.get('ActionID') === 'el');
        if (block.get('Event') === 'ExtensionStateListComplete') break;
        if (block.get('Event') === 'ExtensionStatus') statuses.set(block.get('Exten') ?? '', block.get('StatusText') ?? '');
      }
      expect(statuses.get('2000')).to.equal('Busy');
      expect(statuses.get('3000')).to.equal('Idle');
    });
  });

  describe('a resource list of busy lamps (RFC 4662 over the dialog package)', function () {
    let server: PresenceServer;
    let client: SipClient;

    before(async function () {
      server = await startServer({ config: 'fixtures/integration/blf.conf', args: ['--pjsip', 'fixtures/lists/blf-pjsip.conf'] });
      client = await openClient('UDP', server);
    });

    after(async function () {
      await client?.close();
      await server?.stop();
    });

    /** The RLMI version and each dialog-info part, read from a multipart/related NOTIFY. */
    function listOf(notify: SipMessage): { version: number; parts: DialogInfo[] } {
      const boundary = /boundary="?([^";]+)"?/.exec(notify.header('Content-Type') ?? '')![1]!;
      expect(notify.body).not.to.contain('\u0000');
      const chunks = notify.body.split(`--${boundary}`).slice(1, -1).map((chunk) => chunk.split('\r\n\r\n').slice(1).join('\r\n\r\n').replace(/\r\n$/, ''));
      const version = Number(/<list [^>]*version="(\d+)"/.exec(chunks[0]!)![1]);
      const parts = chunks.slice(1).map((body) => {
        expect(dialogInfoSchemaErrors(body), body).to.equal('');
        return parseDialogInfo(body);
      });
      return { version, parts };
    }

    it('gives every dialog-info part the watcher\'s own version, rising with each NOTIFY', async function () {
      const dialog = await client.subscribeDialog({
        user: 'lamps',
        set: { Event: 'dialog', Supported: 'eventlist', Accept: 'application/dialog-info+xml, application/rlmi+xml, multipart/related' },
      });
      const first = listOf(await dialog.nextNotify());
      expect(first.version).to.equal(0);
      expect(first.parts.map((part) => part.version)).to.deep.equal([0, 0]);
      const result = await server.devicestate(['change', 'Custom:2000', 'RINGING']);
      expect(result.code, result.stderr).to.equal(0);
      const next = listOf(await dialog.nextNotify());
      expect(next.version).to.equal(1);
      // full_state=no (the default): only the lamp that changed, with the same version.
      expect(next.parts.map((part) => part.version)).to.deep.equal([1]);
      expect(next.parts.find((part) => part.entity.includes('2000'))!.dialogs[0]).to.include({ state: 'early', direction: 'recipient' });
    });
  });

  describe('across restarts', function () {
    let dataDir: string;
    let port: number;
    let server: PresenceServer | undefined;
    let client: SipClient | undefined;

    before(async function () {
      dataDir = await makeTempDir();
      port = await freePort();
    });

    after(async function () {
      await client?.close();
      await server?.stop();
      await removeDir(dataDir);
    });

    const start = async (): Promise<PresenceServer> =>
      (server = await startServer({ config: 'fixtures/integration/blf.conf', dataDir, udp: `127.0.0.1:${port}`, tcp: `127.0.0.1:${port}` }));

    it('keeps Custom: states through kill -9 and continues each watcher\'s version after a restart', async function () {
      await start();
      client = await openClient('UDP', server!);
      const dialog = await client.subscribeDialog({ user: '2000', set: DIALOG });
      expect(readDialog(await dialog.nextNotify()).version).to.equal(0);
      const changed = await server!.devicestate(['change', 'Custom:2000', 'INUSE']);
      expect(changed.code, changed.stderr).to.equal(0);
      expect(readDialog(await dialog.nextNotify()).version).to.equal(1);

      expect((await server!.stop('SIGTERM')).code).to.equal(0);
      await start();
      const restored = readDialog(await dialog.nextNotify(8000));
      expect(restored.version, 'the restart continues the count').to.equal(2);
      expect(restored.dialogs[0]!.state).to.equal('confirmed');

      await server!.kill();
      await start();
      const afterKill = await dialog.nextNotify(8000);
      expect(subscriptionState(afterKill).state).to.equal('active');
      const body = readDialog(afterKill);
      expect(body.version, 'after kill -9 the count never goes back').to.be.above(2);
      expect(body.dialogs[0]!.state, 'the Custom: state was on disk before the CLI was answered').to.equal('confirmed');
      expect((await server!.devicestate(['list'])).stdout).to.contain("--- Name: 'Custom:2000'  State: 'INUSE'");
    });
  });
});
