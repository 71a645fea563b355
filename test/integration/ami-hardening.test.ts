// D2 and D9: AMI login throttling that hanging up early cannot dodge, and authlimit slots per address, so idle
// connections from one host lock out only that host.
import { expect } from 'chai';
import { RawAmi } from '../helpers/raw-ami.js';
import { startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually } from '../helpers/sip-client.js';

describe('integration: AMI hardening (D2, D9)', function () {
  this.timeout(30000);
  let server: PresenceServer;

  before(async function () {
    // authlimit 2, authtimeout 1 s.
    server = await startServer({ amiConfig: 'fixtures/ami/limits.conf', logLevel: 'info' });
  });

  after(async function () {
    await server?.stop();
  });

  it('keeps the unauthenticated slots of one address to that address (D9)', async function () {
    const idle = [await RawAmi.open(server.amiPort, '127.0.0.2'), await RawAmi.open(server.amiPort, '127.0.0.2')];
    const third = await RawAmi.connect(server.amiPort, '127.0.0.2');
    await third.closed;
    expect(third.banner).to.equal('');
    const admin = await RawAmi.login(server.amiPort);
    expect((await admin.request(['Action: Ping'])).get('Ping')).to.equal('Pong');
    for (const ami of [...idle, admin]) ami.close();
  });

});

describe('integration: AMI login throttling (D2)', function () {
  this.timeout(30000);
  let server: PresenceServer;

  before(async function () {
    server = await startServer({ amiConfig: 'fixtures/ami/manager.conf', logLevel: 'debug' });
  });

  after(async function () {
    await server?.stop();
  });

  it('counts login attempts abandoned before their answer, and delays the next answer even when it succeeds', async function () {
    for (let i = 0; i < 3; i++) {
      const guess = await RawAmi.open(server.amiPort, '127.0.0.3');
      guess.write(`Action: Login\r\nUsername: panel\r\nSecret: guess${i}\r\n\r\n`);
      guess.socket.end();
      await guess.closed;
    }
    const ami = await RawAmi.open(server.amiPort, '127.0.0.3');
    const login = await ami.request(['Action: Login', 'Username: panel', 'Secret: panelpass']);
    expect(login.get('Message')).to.equal('Authentication accepted');
    ami.close();
    await eventually(() => server.stderr().includes('answering a login from 127.0.0.3 after 1000 ms (3 recent attempt(s) without success)'), 5000, 'the delayed answer in the log');
  });
});
