// SIPVicious (Debian's sipvicious 0.3), the scanner kit used against PBXs, run against presenced with the endpoints
// of fixtures/pjsip.conf: svmap finds a SIP server (OPTIONS stay open, for monitoring), svwar cannot tell an existing
// extension from a missing one (every SUBSCRIBE gets the same 401), and svcrack does not get to the password before
// --auth-ban stops answering it. Each run is bounded: few extensions and passwords, --maximumtime, a deadline.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeDir, startServer, type PresenceServer } from '../../helpers/server.js';
import { run, type RunResult } from '../helpers/child.js';
import { HOST, SCANNER_PORTS } from '../helpers/ports.js';
import { UdpRelay, withoutSha256Challenge } from '../helpers/udp-relay.js';

const PASSWORD_6001 = '6001-demo-secret';
const SCAN_DEADLINE_MS = 30_000;
/** Extensions svwar tries, an existing one first: 6001-6003 are endpoints with hints, 6010 a hint only, 6000 nothing. */
const EXTENSIONS = '6001-6011,6000,7000';

describe('interop: sipvicious', function () {
  this.timeout(60_000);
  let home: string;
  let server: PresenceServer | undefined;
  let relay: UdpRelay | undefined;

  before(async function () {
    home = await makeTempDir('presenced-sipvicious-');
  });

  after(async function () {
    await removeDir(home);
  });

  afterEach(async function () {
    await relay?.close();
    relay = undefined;
    await server?.stop();
    server = undefined;
  });

  async function start(args: string[] = []): Promise<PresenceServer> {
    const address = `${HOST}:${SCANNER_PORTS.server}`;
    server = await startServer({ config: 'fixtures/extensions.conf', udp: address, tcp: address, logLevel: 'info', args: ['--pjsip', 'fixtures/pjsip.conf', ...args] });
    return server;
  }

  /** A sipvicious tool, bound to loopback, its session files in a temp HOME. */
  function sipvicious(tool: 'svmap' | 'svwar' | 'svcrack', args: string[]): Promise<RunResult> {
    return run(tool, ['-b', HOST, '-x', HOST, '-P', String(SCANNER_PORTS[tool]), ...args], { env: { ...process.env, HOME: home }, timeoutMs: SCAN_DEADLINE_MS });
  }

  function output(result: RunResult): string {
    return `${result.stdout}\n${result.stderr}`;
  }

  it('svmap finds presenced by its OPTIONS answer, which needs no credentials', async function () {
    await start();
    const result = await sipvicious('svmap', ['-p', String(SCANNER_PORTS.server), HOST]);
    expect(output(result)).to.match(new RegExp(`${HOST.replace(/\./g, '\\.')}:${SCANNER_PORTS.server}\\s*\\|\\s*presenced/`));
  });

  it('svwar cannot enumerate extensions: an existing extension gets the same 401 as a made-up one', async function () {
    const on = await start();
    relay = await UdpRelay.start(SCANNER_PORTS.relay, SCANNER_PORTS.server);
    const target = `udp://${HOST}:${SCANNER_PORTS.relay}`;
    // svwar first asks for a made-up extension to learn what "no such user" looks like. Had that been a 404 (as a
    // 401 for existing ones), it would now list every extension that exists; told 401, it gives up.
    const first = await sipvicious('svwar', ['-m', 'SUBSCRIBE', '-e', EXTENSIONS, target]);
    expect(output(first)).to.include('authentication request for an unknown extension');
    expect(output(first)).to.include('found nothing');
    // Forced on, it asks for 6001 (an endpoint with a hint) and is told exactly what the made-up extension was told.
    relay.responses.length = 0;
    const forced = await sipvicious('svwar', ['--force', '-m', 'SUBSCRIBE', '-e', EXTENSIONS, target]);
    expect(output(forced)).to.include('found nothing');
    expect(output(forced)).not.to.match(/extension '\d+' (?:probably )?exists/);
    const [madeUp, existing] = relay.responses;
    expect(existing?.toUser, relay.responses.map(({ raw }) => raw).join('\n')).to.equal('6001');
    expect(madeUp?.toUser).to.not.equal('6001');
    expect([madeUp!.status, existing!.status]).to.deep.equal([401, 401]);
    const headerNames = (raw: string): string[] => raw.split('\r\n').map((line) => line.split(':')[0]!);
    expect(headerNames(existing!.raw), 'the same headers in the same order').to.deep.equal(headerNames(madeUp!.raw));
    // Its default REGISTER scan learns nothing either: presenced is no registrar (405 for every extension).
    const registers = await sipvicious('svwar', ['-e', EXTENSIONS, target]);
    expect(output(registers)).to.include('found nothing');
    expect(on.stderr()).not.to.match(/auth: failed/);
  });

  describe('svcrack', function () {
    async function dictionary(name: string, passwords: string[]): Promise<string> {
      const file = path.join(home, name);
      await writeFile(file, `${passwords.join('\n')}\n`);
      return file;
    }

    function svcrack(words: string, port: number): Promise<RunResult> {
      return sipvicious('svcrack', ['-u', '6001', '-m', 'SUBSCRIBE', '-d', words, '--maximumtime', '4', `udp://${HOST}:${port}`]);
    }

    it('as shipped, cannot answer the SHA-256 challenge presenced offers first', async function () {
      const on = await start();
      const result = await svcrack(await dictionary('right-first.txt', [PASSWORD_6001]), SCANNER_PORTS.server);
      expect(output(result)).not.to.include('The password for');
      expect(output(result)).to.include('Unknown algorithm: sha-256');
      expect(on.stderr()).not.to.match(/auth: failed/);
    });

    it('answering the MD5 challenge, authenticates with the right password (the relay sees the answer change)', async function () {
      // The control for the next test: svcrack's digest answers, through the relay, are real ones.
      const on = await start();
      relay = await UdpRelay.start(SCANNER_PORTS.relay, SCANNER_PORTS.server, withoutSha256Challenge);
      await svcrack(await dictionary('right-first.txt', [PASSWORD_6001]), SCANNER_PORTS.relay);
      // Authenticated, the SUBSCRIBE is judged for what it is: svcrack's carries no Event header (489).
      expect(relay.statuses().slice(0, 2), relay.responses.map(({ raw }) => raw).join('\n')).to.deep.equal([401, 489]);
      expect(on.stderr()).not.to.match(/auth: failed/);
    });

    it('makes real guesses, is slowed down and banned by --auth-ban before it reaches the right password', async function () {
      const on = await start(['--auth-ban', '5/600']);
      relay = await UdpRelay.start(SCANNER_PORTS.relay, SCANNER_PORTS.server, withoutSha256Challenge);
      const wrong = ['123456', 'password', '6001', '1234', 'secret', 'admin', 'asterisk'];
      const result = await svcrack(await dictionary('guesses.txt', [...wrong, PASSWORD_6001]), SCANNER_PORTS.relay);
      expect(output(result)).not.to.include('The password for');
      expect(output(result)).to.include('since we last received a response - stopping');
      const failures = on.stderr().split('\n').filter((line) => /WARN auth: failed SUBSCRIBE from 127\.0\.0\.1:\d+ as '6001': wrong password/.test(line));
      expect(failures, on.stderr()).to.have.length(5);
      expect(on.stderr()).to.include('WARN auth: banning 127.0.0.1 after repeated failures');
      // It goes on guessing (the right password is in its list) but is answered no more: no 489, no 200.
      expect(relay.answers, 'digest answers svcrack sent').to.be.at.least(5);
      expect([...new Set(relay.statuses())]).to.deep.equal([401]);
    });
  });
});
