// Digest authentication against endpoints from pjsip.conf (RFC 3261 §22, RFC 7616, RFC 8760), per-endpoint
// contexts and rights, and answers that reveal nothing: every rule over real sockets.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorization, parseChallenge, type Answer, type Challenge } from '../helpers/digest.js';
import { rpidBody } from '../helpers/publish.js';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import { eventually, newCallId, openClient, type SipClient, type SubscribeOptions } from '../helpers/sip-client.js';
import { forEachTransport, useServer } from '../helpers/suite.js';
import type { SipMessage } from '../helpers/wire.js';

const PJSIP = 'fixtures/security/pjsip.conf';
/** The sample dialplan the sample pjsip.conf is written for. */
const DIALPLAN = 'fixtures/extensions.conf';
const PASSWORDS: Record<string, string> = { '6001': '6001-demo-secret', '6002': '6002-demo-secret', '6003': '6003-demo-secret', lab: 'lab-secret', kiosk: 'kiosk-secret' };

/** The WWW-Authenticate rows as written (read from the raw text: each is one challenge). */
function authenticateRows(response: SipMessage): string[] {
  return response.raw.split('\r\n').filter((line) => /^www-authenticate\s*:/i.test(line)).map((line) => line.slice(line.indexOf(':') + 1).trim());
}

function challenges(response: SipMessage): Challenge[] {
  return authenticateRows(response).map(parseChallenge);
}

/** The request-URI a client's SUBSCRIBE to `user` carries (the digest covers it). */
function uriOf(client: SipClient, user: string): string {
  return `sip:${user}@127.0.0.1:${client.serverPort}`;
}

/** SUBSCRIBE, take the 401's challenge of `algorithm`, answer it as `username`; the final answer. */
async function subscribeAs(client: SipClient, username: string, options: SubscribeOptions & { algorithm?: 'SHA-256' | 'MD5'; password?: string } = {}) {
  const user = options.user ?? '6002';
  const first = await client.subscribe({ ...options, user });
  expect(first.response.status).to.equal(401);
  const challenge = challenges(first.response).find((c) => c.algorithm === (options.algorithm ?? 'SHA-256'))!;
  const answer: Answer = { username, password: options.password ?? PASSWORDS[username] ?? 'nothing', method: 'SUBSCRIBE', uri: uriOf(client, user) };
  const header = authorization(challenge, answer);
  const second = await client.subscribe({ ...options, user, fromUser: username, cseq: 2, set: { ...options.set, Authorization: header } });
  return { ...second, challenge, header };
}

/** The parts of a 401 that must not differ between failures: status, reason and the challenges without the nonce. */
function shape(response: SipMessage): unknown {
  return {
    status: response.status,
    reason: response.reason,
    challenges: authenticateRows(response).map((value) => value.replace(/nonce="[^"]*"/, 'nonce=…')),
    headers: response.raw.split('\r\n').slice(1).map((line) => line.split(':')[0]).filter((name) => name !== ''),
  };
}

describe('integration: digest authentication (--pjsip)', function () {
  const server = useServer({ config: DIALPLAN, args: ['--pjsip', PJSIP] });

  forEachTransport(server, (client) => {
    it('answers an unauthenticated SUBSCRIBE with 401 and two challenges: SHA-256 first, then MD5, qop="auth", opaque', async function () {
      const { response } = await client().subscribe();
      expect(response.status).to.equal(401);
      const offered = challenges(response);
      expect(offered.map((c) => c.algorithm)).to.deep.equal(['SHA-256', 'MD5']);
      for (const c of offered) {
        expect(c).to.include({ realm: 'presenced', qop: 'auth' });
        expect(c.opaque).to.be.a('string').and.not.equal('');
        expect(c.nonce).to.be.a('string').and.not.equal('');
      }
    });

    it('accepts the SHA-256 answer and sends the state', async function () {
      const { response, dialog } = await subscribeAs(client(), '6001', { algorithm: 'SHA-256' });
      expect(response.status).to.equal(200);
      await dialog!.nextNotify();
    });

    it('accepts the MD5 answer', async function () {
      expect((await subscribeAs(client(), '6002', { algorithm: 'MD5' })).response.status).to.equal(200);
    });

    it('lets an md5_cred endpoint answer MD5, and fails its SHA-256 answer like a wrong password', async function () {
      expect((await subscribeAs(client(), '6003', { algorithm: 'MD5' })).response.status).to.equal(200);
      const sha = await subscribeAs(client(), '6003', { algorithm: 'SHA-256' });
      const wrong = await subscribeAs(client(), '6002', { algorithm: 'SHA-256', password: 'guess' });
      expect(shape(sha.response)).to.deep.equal(shape(wrong.response));
    });

    it('gives an unknown user, a wrong password and a bad algorithm the very same answer', async function () {
      const unknown = await subscribeAs(client(), 'nobody', { password: 'x' });
      const wrong = await subscribeAs(client(), '6001', { password: 'guess' });
      const first = await client().subscribe();
      const challenge = challenges(first.response)[1];
      const badAlgorithm = await client().subscribe({
        fromUser: '6001',
        set: { Authorization: authorization({ ...challenge, algorithm: 'SHA-512-256' }, { username: '6001', password: PASSWORDS['6001'], method: 'SUBSCRIBE', uri: uriOf(client(), '6002') }) },
      });
      expect(unknown.response.status).to.equal(401);
      expect(shape(unknown.response)).to.deep.equal(shape(wrong.response));
      expect(shape(badAlgorithm.response)).to.deep.equal(shape(wrong.response));
    });

    it('answers an unauthenticated SUBSCRIBE for a missing extension with 401, an authenticated one with 404', async function () {
      const { response } = await client().subscribe({ user: '5555' });
      expect(shape(response)).to.deep.equal(shape((await client().subscribe({ user: '6002' })).response));
      expect((await subscribeAs(client(), '6001', { user: '5555' })).response.status).to.equal(404);
    });

    it('refuses a replayed Authorization (same nonce and nc) even in a new dialog, and takes the next nc', async function () {
      const first = await subscribeAs(client(), '6001');
      expect(first.response.status).to.equal(200);
      const replay = await client().subscribe({ fromUser: '6001', callId: newCallId(), set: { Authorization: first.header } });
      expect(replay.response.status).to.equal(401);
      const next = authorization(first.challenge, { username: '6001', password: PASSWORDS['6001'], method: 'SUBSCRIBE', uri: uriOf(client(), '6002'), nc: 2 });
      expect((await client().subscribe({ fromUser: '6001', set: { Authorization: next } })).response.status).to.equal(200);
    });

    it('answers OPTIONS without credentials', async function () {
      const response = await client().request(client().buildRequest('OPTIONS', { user: '6002' }));
      expect(response.status).to.equal(200);
    });

    it('challenges an in-dialog refresh again and accepts it with credentials', async function () {
      const { response, dialog, challenge } = await subscribeAs(client(), '6001');
      expect(response.status).to.equal(200);
      await dialog!.nextNotify();
      expect((await dialog!.refresh()).status).to.equal(401);
      const header = authorization(challenge, { username: '6001', password: PASSWORDS['6001'], method: 'SUBSCRIBE', uri: uriOf(client(), '6002'), nc: 2 });
      expect((await dialog!.refresh({ set: { Authorization: header } })).status).to.equal(200);
    });

    it('resolves the extension in the endpoint subscribe_context', async function () {
      expect((await subscribeAs(client(), 'lab', { user: '7001' })).response.status).to.equal(200);
      // 6002 is only in [default]: not visible from [internal].
      expect((await subscribeAs(client(), 'lab', { user: '6002' })).response.status).to.equal(404);
      // 7001 is reached from [default] through include => internal.
      expect((await subscribeAs(client(), '6001', { user: '7001' })).response.status).to.equal(200);
    });

    it('refuses SUBSCRIBE from an endpoint with allow_subscribe=no with 403', async function () {
      const { response } = await subscribeAs(client(), 'kiosk');
      expect(response.status).to.equal(403);
    });
  });

  describe('PUBLISH', function () {
    let client: SipClient;
    beforeEach(async function () {
      client = await openClient('UDP', server());
    });
    afterEach(async function () {
      await client.close();
    });

    async function publishAs(username: string, user: string): Promise<SipMessage> {
      const body = rpidBody('away', 'at lunch', `sip:${user}@127.0.0.1`);
      const request = (set: Record<string, string>, cseq: number): string =>
        client.buildRequest('PUBLISH', { user, fromUser: username, cseq, body, set: { 'Content-Type': 'application/pidf+xml', ...set } }, [['Event', 'presence'], ['Expires', '60']]);
      const first = await client.request(request({}, 1));
      expect(first.status).to.equal(401);
      const header = authorization(challenges(first)[0], { username, password: PASSWORDS[username], method: 'PUBLISH', uri: uriOf(client, user) });
      return client.request(request({ Authorization: header }, 2));
    }

    it("lets an endpoint publish its own presence and refuses someone else's with 403", async function () {
      expect((await publishAs('6001', '6001')).status).to.equal(200);
      const other = await publishAs('6001', '6002');
      expect(other.status).to.equal(403);
      expect(other.reason).to.match(/own presence/);
    });
  });

  it('logs each failure once at WARN with source, username and reason, in the form the fail2ban filter matches', async function () {
    const client = await openClient('UDP', server());
    try {
      await subscribeAs(client, 'intruder', { password: 'x' });
      await eventually(() => server().stderr().includes("as 'intruder'"), 5000, 'the failure line');
    } finally {
      await client.close();
    }
    const lines = server().stderr().split('\n').filter((line) => line.includes("as 'intruder'"));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(new RegExp(`WARN auth: failed SUBSCRIBE from 127\\.0\\.0\\.1:${client.localPort} as 'intruder': unknown user$`));
    const filter = readFileSync('docs/fail2ban/presenced.conf', 'utf8');
    const failregex = /^failregex = (.*)$/m.exec(filter)![1].replace('<HOST>', '(?<host>[0-9a-fA-F.:]+)');
    expect(new RegExp(failregex).exec(lines[0])?.groups?.host).to.equal('127.0.0.1');
  });
});

describe('integration: [anonymous] endpoint', function () {
  const server = useServer({ config: DIALPLAN, args: ['--pjsip', 'fixtures/security/anonymous.conf'] });

  forEachTransport(server, (client) => {
    it('admits an unauthenticated SUBSCRIBE into its context', async function () {
      expect((await client().subscribe({ user: '7001' })).response.status).to.equal(200);
      expect((await client().subscribe({ user: '6002' })).response.status).to.equal(404);
    });
  });
});

describe('integration: the pjsip.conf file', function () {
  it('stops the start with file:line when it is broken', async function () {
    let failure: Error | undefined;
    try {
      const server = await startServer({ args: ['--pjsip', 'fixtures/pjsip/broken/bad-permit.conf'] });
      await server.stop();
    } catch (error) {
      failure = error as Error;
    }
    expect(failure?.message).to.include("fixtures/pjsip/broken/bad-permit.conf:4: acl [lan]: 'not-an-address' is not an IP address or network");
  });

  it('keeps the previous endpoints when a reload finds it broken, and takes a good one', async function () {
    const dir = await makeTempDir();
    const file = join(dir, 'pjsip.conf');
    writeFileSync(file, readFileSync('fixtures/pjsip.conf', 'utf8').replace(/^#.*$/gm, ''));
    const server = await startServer({ config: DIALPLAN, logLevel: 'info', args: ['--pjsip', file] });
    const client = await openClient('UDP', server);
    try {
      writeFileSync(file, '[6001]\nauth=6001\n');
      server.signal('SIGHUP');
      await eventually(() => server.stderr().includes('keeping the previous endpoints'), 5000, 'the reload error').catch((error: Error) => {
        throw new Error(`${error.message}\n${server.stderr()}`);
      });
      expect(server.stderr()).to.include(`${file}:1: [6001] has no type=`);
      expect((await subscribeAs(client, '6001')).response.status).to.equal(200);
      writeFileSync(file, '[6009]\ntype=endpoint\nauth=6009\n[6009]\ntype=auth\nusername=6009\npassword=new-secret\n');
      server.signal('SIGHUP');
      await eventually(() => server.stderr().includes('reload: 1 endpoint(s)'), 5000, 'the reload');
      expect((await subscribeAs(client, '6009', { password: 'new-secret', user: '6001' })).response.status).to.equal(200);
      expect((await subscribeAs(client, '6001')).response.status).to.equal(401);
    } finally {
      await client.close();
      await server.stop();
      await removeDir(dir);
    }
  });

  it('warns at start that anyone can read and set every presence without --pjsip', async function () {
    const server = await startServer();
    try {
      expect(server.stderr()).to.match(/WARN security: no endpoints \(--pjsip\): anyone who reaches the SIP ports can read and set every presence/);
    } finally {
      await server.stop();
    }
  });
});
