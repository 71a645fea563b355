// Who may reach the SIP ports at all: pjsip.conf type=acl sections (403, or silence with --acl-silent), checked
// before a message is parsed and when a TCP connection is accepted; and --auth-ban for repeated failed logins.
// The second loopback addresses (127.0.0.2, 127.0.0.3) play the outside hosts.
import { expect } from 'chai';
import net from 'node:net';
import { authorization, parseChallenge } from '../helpers/digest.js';
import { UdpSipClient, type SipClient } from '../helpers/sip-client.js';
import { useServer } from '../helpers/suite.js';

const PJSIP = 'fixtures/security/pjsip.conf';

async function fromAddress<T>(port: number, address: string, body: (client: SipClient) => Promise<T>): Promise<T> {
  const client = await UdpSipClient.open(port, address);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Connects from `localAddress`; resolves with the bytes received before the server closed the connection. */
function connectionFrom(port: number, localAddress: string): Promise<{ closed: boolean; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, data });
    }, 3000);
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, data });
    });
  });
}

describe('integration: ACLs from pjsip.conf', function () {
  const server = useServer({ config: 'fixtures/extensions.conf', args: ['--pjsip', PJSIP] });

  it('answers every request from a denied address with 403, before authentication', async function () {
    await fromAddress(server().udpPort, '127.0.0.2', async (client) => {
      const options = await client.request(client.buildRequest('OPTIONS'));
      expect([options.status, options.reason]).to.deep.equal([403, 'Forbidden (address not permitted)']);
      expect((await client.subscribe()).response.status).to.equal(403);
    });
  });

  it('serves the permitted addresses', async function () {
    await fromAddress(server().udpPort, '127.0.0.1', async (client) => {
      expect((await client.request(client.buildRequest('OPTIONS'))).status).to.equal(200);
    });
  });

  it('closes a TCP connection from a denied address at accept, and keeps one from a permitted address', async function () {
    expect(await connectionFrom(server().tcpPort, '127.0.0.2')).to.deep.equal({ closed: true, data: '' });
    expect((await connectionFrom(server().tcpPort, '127.0.0.1')).closed).to.equal(false);
  });
});

describe('integration: --acl-silent', function () {
  const server = useServer({ config: 'fixtures/extensions.conf', args: ['--pjsip', PJSIP, '--acl-silent'] });

  it('gives a denied address no answer at all', async function () {
    await fromAddress(server().udpPort, '127.0.0.2', async (client) => {
      await client.send(client.buildRequest('OPTIONS'));
      await client.expectNone(() => true, 1000, 'any answer');
    });
  });
});

describe('integration: --auth-ban', function () {
  const server = useServer({ config: 'fixtures/extensions.conf', args: ['--pjsip', PJSIP, '--auth-ban', '2/60'] });

  it('ignores an address after N failed authentications, and only that address', async function () {
    await fromAddress(server().udpPort, '127.0.0.3', async (client) => {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const first = await client.subscribe();
        const challenge = parseChallenge(first.response.raw.split('\r\n').find((line) => line.startsWith('WWW-Authenticate'))!.slice(18));
        const header = authorization(challenge, { username: '6001', password: `guess-${attempt}`, method: 'SUBSCRIBE', uri: `sip:6002@127.0.0.1:${server().udpPort}` });
        if (attempt === 1) expect((await client.subscribe({ fromUser: '6001', set: { Authorization: header } })).response.status).to.equal(401);
        else await client.send(client.buildSubscribe({ fromUser: '6001', set: { Authorization: header } }));
      }
      await client.send(client.buildRequest('OPTIONS'));
      await client.expectNone((message) => !message.isRequest && message.method === 'OPTIONS', 1000, 'an answer to OPTIONS');
    });
    expect(server().stderr()).to.match(/WARN auth: banning 127\.0\.0\.3 after repeated failures/);
    await fromAddress(server().udpPort, '127.0.0.1', async (client) => {
      expect((await client.request(client.buildRequest('OPTIONS'))).status).to.equal(200);
    });
  });
});
