// What the daemon logs: JSON lines when stderr is not a terminal, one audit line per state change, the dialplan's
// mistakes with file:line, and a port already in use as one clear line.
import { expect } from 'chai';
import net from 'node:net';
import { runProgram, startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, openClient } from '../helpers/sip-client.js';
import { publish, rpidBody } from '../helpers/publish.js';

type LogLine = Record<string, unknown> & { level: string; msg: string };

function jsonLines(server: PresenceServer): LogLine[] {
  return server.stderr().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as LogLine);
}

describe('integration: logs', function () {
  let server: PresenceServer | undefined;
  afterEach(async function () {
    await server?.stop();
    server = undefined;
  });

  it('writes JSON lines by default when stderr is not a terminal, with one audit line per state change', async function () {
    server = await startServer({ config: 'fixtures/integration/publish.conf', logLevel: 'info', logFormat: null });
    const change = await server.cli(['change', 'CustomPresence:6002', 'away,at home,Sick with the flu']);
    expect(change.code, change.stderr).to.equal(0);
    const client = await openClient('UDP', server);
    try {
      const answer = await publish(client, { body: rpidBody('on-the-phone', 'In a call') });
      expect(answer.status).to.equal(200);
    } finally {
      await client.close();
    }
    await eventually(() => jsonLines(server!).filter((line) => line.msg.startsWith('state: ')).length === 2, 5000, 'two audit lines');
    const audits = jsonLines(server).filter((line) => line.msg.startsWith('state: '));
    expect(audits[0]).to.include({
      level: 'info', msg: 'state: CustomPresence:6002 is away (by cli)', entity: 'CustomPresence:6002', state: 'away',
      subtype: 'at home', message: 'Sick with the flu', source: 'cli',
    });
    expect(audits[1]).to.include({ entity: 'CustomPresence:6002', source: 'sip', message: 'In a call' });
    expect(audits[1]['publisher']).to.match(/^sip:6002@127\.0\.0\.1.* from UDP 127\.0\.0\.1:\d+$/);
  });

  it('escapes the control characters a peer puts in a logged value', async function () {
    server = await startServer({ logLevel: 'info', logFormat: 'json' });
    const client = await openClient('UDP', server);
    try {
      const { response } = await client.subscribe({ user: '9%0AERROR%20forged%1B%E2%80%A8' });
      expect(response.status).to.equal(404);
    } finally {
      await client.close();
    }
    await eventually(() => server!.stderr().includes('forged'), 5000, 'the refused SUBSCRIBE in the log');
    expect(server.stderr()).not.to.match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]/);
    const refused = jsonLines(server).find((line) => line.msg.includes('forged'));
    expect(refused?.msg).to.include('no hint for 9\\nERROR forged\\x1b\\u2028@default');
  });

  it('warns about dialplan mistakes with file:line', async function () {
    server = await startServer({ config: 'fixtures/hints/typos.conf', logLevel: 'warn' });
    const log = server.stderr();
    expect(log).to.match(/WARN .*extensions\.conf:4: priority "hnit" of 6002@default is not a priority: a misspelt "hint"\?/);
    expect(log).to.match(/WARN .*extensions\.conf:5: "Dial\(PJSIP\/6003\)" in the hint for 6003@default is not a device/);
    expect(log).to.match(/WARN .*extensions\.conf:6: presence provider "CustomPresense:6004" of 6004@default: a misspelt CustomPresence\?/);
    expect(log).to.match(/WARN .*extensions\.conf:11: "include => nosuchcontext" names no context/);
    expect(log).not.to.include(':7:');
  });

  it('says in one line which address is taken when a port is in use, and exits 1', async function () {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const result = await runProgram('presenced', ['--udp', 'off', '--tcp', `127.0.0.1:${port}`, '--config', 'fixtures/extensions.conf', '--data', '/tmp', '--store', 'memory', '--log-level', 'error']);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.equal(
        `presenced: cannot listen on 127.0.0.1:${port}: the address is already in use — usually Asterisk (or another SIP server) already holds it; give presenced another port or address (--udp/--tcp HOST:PORT, or [sip] in presenced.conf)\n`,
      );
    } finally {
      holder.close();
    }
  });
});
