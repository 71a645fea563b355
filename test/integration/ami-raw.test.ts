// The AMI over raw sockets, for what a client library would never send: requests before login, bad secrets, MD5
// logins, malformed and oversized input, clients that vanish or never read, too many connections.
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { eventually } from '../helpers/sip-client.js';

const WAIT_MS = 5000;

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('integration: AMI over raw sockets', function () {
  let server: PresenceServer;

  before(async function () {
    server = await startServer({ amiConfig: 'fixtures/ami/manager.conf' });
    expect(server.amiPort).to.be.greaterThan(0);
  });

  after(async function () {
    await server?.stop();
  });

  describe('sessions and login', function () {
    it('greets with the banner and refuses actions before login, echoing the ActionID', async function () {
      const ami = await RawAmi.open(server.amiPort);
      expect(ami.banner).to.match(/^Asterisk Call Manager\/\d+\.\d+\.\d+$/);
      const refused = await ami.request(['Action: PresenceState', 'Provider: CustomPresence:6002', 'ActionID: early-1']);
      expect(refused.raw).to.equal('Response: Error\r\nActionID: early-1\r\nMessage: Permission denied');
      ami.close();
    });

    it('answers Ping once logged in, with Pong and a timestamp', async function () {
      const ami = await RawAmi.login(server.amiPort);
      const pong = await ami.request(['Action: Ping', 'ActionID: p1']);
      expect(pong.fields.slice(0, 3)).to.deep.equal([['Response', 'Success'], ['ActionID', 'p1'], ['Ping', 'Pong']]);
      expect(pong.get('Timestamp')).to.match(/^\d+\.\d{6}$/);
      const again = await ami.request(['Action: Login', 'Username: admin', 'Secret: s3cret!']);
      expect(again.raw).to.equal('Response: Success\r\nMessage: Already authenticated');
      ami.close();
    });

    it('sends FullyBooted after a login that reads system events', async function () {
      const ami = await RawAmi.login(server.amiPort);
      const booted = await ami.nextWhere((block) => block.get('Event') === 'FullyBooted');
      expect(booted.get('Privilege')).to.equal('system,all');
      expect(booted.get('Status')).to.equal('Fully Booted');
      ami.close();
    });

    it('answers a wrong secret with Authentication failed, closes the connection and logs the failure once', async function () {
      const ami = await RawAmi.open(server.amiPort);
      const failed = await ami.request(['Action: Login', 'ActionID: bad-1', 'Username: panel', 'Secret: guess']);
      expect(failed.raw).to.equal('Response: Error\r\nActionID: bad-1\r\nMessage: Authentication failed');
      await ami.closed;
      await eventually(() => server.stderr().includes("failed to authenticate as 'panel'"), WAIT_MS, 'the failed login in the log');
      expect(occurrences(server.stderr(), "failed to authenticate as 'panel'")).to.equal(1);
    });

    it('refuses an unknown user and a user from a network it may not use, in the same words', async function () {
      for (const [user, secret] of [['mallory', 'x'], ['remote', 'remotepass']]) {
        const ami = await RawAmi.open(server.amiPort);
        const failed = await ami.request(['Action: Login', `Username: ${user}`, `Secret: ${secret}`]);
        expect(failed.get('Message'), user).to.equal('Authentication failed');
        await ami.closed;
      }
      await eventually(() => server.stderr().includes("as 'remote' (address not permitted"), WAIT_MS, 'the ACL failure in the log');
    });

    it('logs in with an MD5 challenge', async function () {
      const ami = await RawAmi.open(server.amiPort);
      const challenge = await ami.request(['Action: Challenge', 'AuthType: md5', 'ActionID: c1']);
      expect(challenge.fields.slice(0, 2)).to.deep.equal([['Response', 'Success'], ['ActionID', 'c1']]);
      const text = challenge.get('Challenge') ?? '';
      expect(text).to.match(/^\d+$/);
      const key = createHash('md5').update(`${text}s3cret!`).digest('hex');
      const accepted = await ami.request(['Action: Login', 'AuthType: MD5', 'Username: admin', `Key: ${key}`]);
      expect(accepted.get('Message')).to.equal('Authentication accepted');
      ami.close();
    });

    it('refuses an MD5 key made with the wrong secret, and a Challenge without AuthType', async function () {
      const ami = await RawAmi.open(server.amiPort);
      expect((await ami.request(['Action: Challenge'])).raw).to.equal('Response: Error\r\nMessage: Must specify AuthType');
      const challenge = (await ami.request(['Action: Challenge', 'AuthType: MD5'])).get('Challenge');
      const key = createHash('md5').update(`${challenge}wrong`).digest('hex');
      const refused = await ami.request(['Action: Login', 'AuthType: MD5', 'Username: admin', `Key: ${key}`]);
      expect(refused.get('Message')).to.equal('Authentication failed');
      await ami.closed;
    });

    it('writes the events an action causes after its response', async function () {
      const ami = await RawAmi.login(server.amiPort);
      await ami.nextWhere((block) => block.get('Event') === 'FullyBooted');
      ami.write('Action: Setvar\r\nVariable: PRESENCE_STATE(CustomPresence:2000)\r\nValue: chat\r\nActionID: order\r\n\r\n');
      const [first, second] = [await ami.nextWhere(() => true), await ami.nextWhere(() => true)];
      expect(first.fields.slice(0, 2)).to.deep.equal([['Response', 'Success'], ['ActionID', 'order']]);
      expect(second.get('Event')).to.equal('PresenceStateChange');
      ami.close();
    });

    it('says Goodbye to Logoff and closes the connection', async function () {
      const ami = await RawAmi.login(server.amiPort);
      const goodbye = await ami.request(['Action: Logoff', 'ActionID: bye']);
      expect(goodbye.raw).to.equal('Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.');
      await ami.closed;
    });
  });

  describe('requests', function () {
    let ami: RawAmi;

    before(async function () {
      ami = await RawAmi.login(server.amiPort);
    });

    after(function () {
      ami?.close();
    });

    it('names an unknown action, and answers a request without one', async function () {
      const unknown = await ami.request(['Action: Originate', 'ActionID: u1']);
      expect(unknown.raw).to.equal('Response: Error\r\nActionID: u1\r\nMessage: Invalid/unknown command: Originate. Use Action: ListCommands to show available commands.');
      expect((await ami.request(['ActionID: m1', 'Provider: x'])).raw).to.equal('Response: Error\r\nActionID: m1\r\nMessage: Missing action in request');
    });

    it('answers PresenceState errors like Asterisk', async function () {
      expect((await ami.request(['Action: PresenceState'])).get('Message')).to.equal('No provider specified');
      expect((await ami.request(['Action: PresenceState', 'Provider: SIP/6002'])).get('Message'))
        .to.equal('Invalid provider SIP/6002 or provider in invalid state');
      expect((await ami.request(['Action: PresenceState', 'Provider: CustomPresence:'])).get('Message'))
        .to.equal('Invalid provider CustomPresence: or provider in invalid state');
    });

    it('refuses an invalid Setvar, stores nothing and raises no event', async function () {
      const set = await ami.request(['Action: Setvar', 'Variable: PRESENCE_STATE(CustomPresence:7000)', 'Value: dnd,,Before']);
      expect(set.get('Response'), set.raw).to.equal('Success');
      await ami.nextWhere((block) => block.get('Event') === 'PresenceStateChange' && block.get('Presentity') === 'CustomPresence:7000');
      for (const value of ['sleeping', 'away,,,x', 'away,!!!,,e', '']) {
        const refused = await ami.request(['Action: Setvar', 'Variable: PRESENCE_STATE(CustomPresence:7000)', `Value: ${value}`]);
        expect(refused.get('Response'), value).to.equal('Error');
        expect(refused.get('Message'), value).to.match(/^Variable not set: /);
      }
      const refused = await ami.request(['Action: Setvar', 'Variable: PRESENCE_STATE(SIP/7000)', 'Value: away']);
      expect(refused.get('Message')).to.equal("Variable not set: The presencestate command can only be used to set 'CustomPresence:' presence state!");
      const read = await ami.request(['Action: Getvar', 'Variable: PRESENCE_STATE(CustomPresence:7000,value)']);
      expect(read.get('Value')).to.equal('dnd');
      await ami.nextWhere((block) => block.get('Event') === 'PresenceStateChange', 700).then(
        (block) => expect.fail(`unexpected event:\n${block.raw}`),
        () => undefined,
      );
    });

    it('answers Getvar and Setvar errors', async function () {
      expect((await ami.request(['Action: Getvar'])).get('Message')).to.equal('No variable specified');
      expect((await ami.request(['Action: Setvar', 'Value: x'])).get('Message')).to.equal('No variable specified');
      expect((await ami.request(['Action: Getvar', 'Channel: PJSIP/6002-0001', 'Variable: PRESENCE_STATE(CustomPresence:1)'])).get('Message'))
        .to.equal('No such channel');
      expect((await ami.request(['Action: Getvar', 'Variable: CALLERID(num)'])).get('Message'))
        .to.equal("Unsupported variable 'CALLERID(num)': only PRESENCE_STATE(<provider>) and DEVICE_STATE(<device>) are available");
      expect((await ami.request(['Action: Getvar', 'Variable: PRESENCE_STATE(SIP/6002,value)'])).get('Message'))
        .to.equal('Invalid provider SIP/6002 or provider in invalid state');
      expect((await ami.request(['Action: Getvar', 'Variable: PRESENCE_STATE(CustomPresence:6002,mood)'])).get('Message'))
        .to.equal("Unknown PRESENCE_STATE field 'mood' (expected one of: value, subtype, message)");
    });

    it('answers ExtensionState for an extension without a hint with -1 / Unknown, and asks for Exten', async function () {
      const state = await ami.request(['Action: ExtensionState', 'Exten: 5555', 'Context: default']);
      expect(state.fields.slice(1)).to.deep.equal([
        ['Message', 'Extension Status'], ['Exten', '5555'], ['Context', 'default'], ['Hint', ''], ['Status', '-1'], ['StatusText', 'Unknown'],
      ]);
      expect((await ami.request(['Action: ExtensionState'])).get('Message')).to.equal('Extension not specified');
    });

    it('refuses an empty event mask', async function () {
      expect((await ami.request(['Action: Events', 'EventMask:'])).raw).to.equal('Response: Error\r\nMessage: Invalid event mask');
    });
  });

  describe('hostile and broken clients', function () {
    it('answers a line that is too long with an error and keeps the session', async function () {
      const ami = await RawAmi.login(server.amiPort);
      ami.write(`Action: Getvar\r\nActionID: huge\r\nVariable: ${'x'.repeat(2 * 1024 * 1024)}\r\n\r\n`);
      const refused = await ami.nextWhere((block) => block.get('ActionID') === 'huge');
      expect(refused.raw).to.equal('Response: Error\r\nActionID: huge\r\nMessage: Failed to parse message: line too long');
      expect((await ami.request(['Action: Ping'])).get('Ping')).to.equal('Pong');
      ami.close();
    });

    it('answers a request with too many lines with an error and keeps the session', async function () {
      const ami = await RawAmi.login(server.amiPort);
      const lines = Array.from({ length: 500 }, (_, i) => `X-Header-${i}: ${i}`);
      const refused = await ami.request(['Action: Ping', 'ActionID: many', ...lines]);
      expect(refused.raw).to.equal('Response: Error\r\nActionID: many\r\nMessage: Too many lines in message or allocation failure');
      expect((await ami.request(['Action: Ping'])).get('Ping')).to.equal('Pong');
      ami.close();
    });

    it('survives binary garbage, NUL bytes, invalid UTF-8 and a flood of empty lines', async function () {
      const ami = await RawAmi.login(server.amiPort);
      ami.write(Buffer.concat([randomBytes(4096), Buffer.alloc(512), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x0a])]));
      ami.write('\n'.repeat(100_000));
      // The garbage may hold empty lines, each answered as a request without Action: look for the Ping's answer.
      ami.write('\r\n\r\nAction: Ping\r\nActionID: after-garbage\r\n\r\n');
      const pong = await ami.nextWhere((block) => block.get('ActionID') === 'after-garbage');
      expect(pong.get('Ping')).to.equal('Pong');
      ami.close();
    });

    it('survives a client that vanishes in the middle of its requests and events', async function () {
      const ami = await RawAmi.login(server.amiPort);
      ami.write('Action: Setvar\r\nVariable: PRESENCE_STATE(CustomPresence:9000)\r\nValue: xa,,Vanished\r\n\r\nAction: PresenceStateList\r\n\r\nAction: Ping\r\n');
      ami.socket.end(() => ami.close());
      // And one that leaves while its failed login is being delayed.
      const ghost = await RawAmi.open(server.amiPort);
      ghost.write('Action: Login\r\nUsername: admin\r\nSecret: nope\r\n\r\n');
      ghost.close();
      const other = await RawAmi.login(server.amiPort);
      await eventually(async () => (await other.request(['Action: Getvar', 'Variable: PRESENCE_STATE(CustomPresence:9000,message)'])).get('Value') === 'Vanished',
        WAIT_MS, 'the vanished client\'s Setvar to be stored');
      const change = await server.cli(['change', 'CustomPresence:9000', 'available']);
      expect(change.code, change.stderr).to.equal(0);
      await other.nextWhere((block) => block.get('Event') === 'PresenceStateChange' && block.get('Status') === 'available');
      other.close();
    });

    it('drops a client that asks for a lot and never reads, and serves the others', async function () {
      const greedy = await RawAmi.login(server.amiPort);
      greedy.socket.pause();
      // Each request is answered by about thirty times its size: megabytes pile up on the server for this client.
      const requests = 'Action: ExtensionStateList\r\n\r\n'.repeat(20_000);
      greedy.write(requests);
      await eventually(() => server.stderr().includes('does not read'), 20_000, 'the greedy client to be dropped');
      const other = await RawAmi.login(server.amiPort);
      expect((await other.request(['Action: Ping'])).get('Ping')).to.equal('Pong');
      other.close();
      greedy.close();
    });
  });

  describe('connection limits', function () {
    let limited: PresenceServer;

    before(async function () {
      limited = await startServer({ amiConfig: 'fixtures/ami/limits.conf' });
    });

    after(async function () {
      await limited?.stop();
    });

    it('closes connections that do not log in in time', async function () {
      const idle = await RawAmi.open(limited.amiPort);
      await idle.closed;
      await eventually(() => limited.stderr().includes('did not log in within 1 s'), WAIT_MS, 'the timeout in the log');
    });

    it('accepts at most authlimit connections that have not logged in yet', async function () {
      const first = await RawAmi.open(limited.amiPort);
      const second = await RawAmi.open(limited.amiPort);
      const third = await RawAmi.connect(limited.amiPort);
      await third.closed;
      expect(third.banner).to.equal('');
      const login = await first.request(['Action: Login', 'Username: admin', 'Secret: s3cret!']);
      expect(login.get('Message')).to.equal('Authentication accepted');
      const fourth = await RawAmi.open(limited.amiPort);
      expect(fourth.banner).to.match(/^Asterisk Call Manager\//);
      for (const ami of [first, second, fourth]) ami.close();
    });
  });

  describe('options and reload', function () {
    it('is off unless --ami is given', async function () {
      const plain = await startServer();
      try {
        expect(plain.amiPort).to.equal(0);
      } finally {
        await plain.stop();
      }
    });

    it('refuses to start without a readable users file, or with one and no --ami', async function () {
      const cases: Array<[string[], string]> = [
        [['--ami', '127.0.0.1:0'], '--ami needs --ami-config FILE'],
        [['--ami-config', 'fixtures/ami/manager.conf'], '--ami-config has no effect without --ami'],
        [['--ami', '127.0.0.1:0', '--ami-config', 'fixtures/ami/no-such.conf'], 'cannot read AMI config fixtures/ami/no-such.conf'],
        [['--ami', 'localhost', '--ami-config', 'fixtures/ami/manager.conf'], "invalid listen address 'localhost'"],
      ];
      for (const [args, message] of cases) {
        const failure = await startServer({ args }).then(async (started) => {
          await started.stop();
          return 'started';
        }, (error: Error) => error.message);
        expect(failure, args.join(' ')).to.include(message);
      }
    });

    it('re-reads the users on SIGHUP', async function () {
      const dir = await makeTempDir();
      const users = path.join(dir, 'manager.conf');
      await writeFile(users, '[admin]\nsecret = first\nread = call\nwrite = call\n');
      const reloading = await startServer({ args: ['--ami', '127.0.0.1:0', '--ami-config', users] });
      try {
        const before = await RawAmi.open(reloading.amiPort);
        expect((await before.request(['Action: Login', 'Username: admin', 'Secret: second'])).get('Message')).to.equal('Authentication failed');
        await writeFile(users, '[admin]\nsecret = second\nread = call\nwrite = call\n');
        reloading.signal('SIGHUP');
        await eventually(async () => {
          const ami = await RawAmi.open(reloading.amiPort);
          const accepted = (await ami.request(['Action: Login', 'Username: admin', 'Secret: second'])).get('Message') === 'Authentication accepted';
          ami.close();
          return accepted;
        }, 15_000, 'a login with the new secret');
      } finally {
        await reloading.stop();
        await removeDir(dir);
      }
    });
  });
});
