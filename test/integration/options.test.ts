// OPTIONS, methods the server does not implement, and how every response mirrors the request (RFC 3261 §8.2.6.2).
import { expect } from 'chai';
import { startServer } from '../helpers/server.js';
import { newBranch, newCallId, newTag } from '../helpers/sip-client.js';
import { forEachTransport, useServer } from '../helpers/suite.js';
import { parseVia, uriOf } from '../helpers/wire.js';
import type { SipMessage } from '../helpers/wire.js';

const PROXY_VIAS = ['SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKproxy1', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKproxy2;received=192.0.2.20'];

function expectAllowsPresenceMethods(response: SipMessage): void {
  const allow = response.headerValues('Allow').map((method) => method.toUpperCase());
  expect(allow).to.include.members(['SUBSCRIBE', 'OPTIONS']);
}

/** A Via value without the RFC 3581 parameters the server may add. */
function withoutNatParams(via: string): string {
  return via.replace(/;rport(=\d+)?/i, '').replace(/;received=[^;,]*/i, '');
}

describe('integration: OPTIONS, unsupported methods and response headers', function () {
  const server = useServer();

  it('prints its ports and the number of hints it loaded', function () {
    expect(server().udpPort).to.be.above(0);
    expect(server().tcpPort).to.be.above(0);
    expect(server().hints).to.equal(6);
  });

  forEachTransport(server, (client, transport) => {
    it('answers OPTIONS with 200, Allow, Accept and Allow-Events: presence', async function () {
      const response = await client().request(client().buildRequest('OPTIONS'));
      expect(response.status).to.equal(200);
      expectAllowsPresenceMethods(response);
      expect(response.headerValues('Accept').map((type) => type.toLowerCase())).to.include('application/pidf+xml');
      expect(response.headerValues('Allow-Events').map((event) => event.toLowerCase())).to.include('presence');
    });

    it('returns every Via in order, adding received and rport to the top one (RFC 3581 §4)', async function () {
      const branch = newBranch();
      const topVia = `SIP/2.0/${transport} 127.0.0.1:${client().localPort};branch=${branch};rport`;
      const response = await client().request(client().buildRequest('OPTIONS', { set: { Via: [topVia, ...PROXY_VIAS] } }));
      const vias = response.headerValues('Via');
      expect(vias).to.have.length(3);
      expect(vias.slice(1)).to.deep.equal(PROXY_VIAS);
      expect(withoutNatParams(vias[0])).to.equal(withoutNatParams(topVia));
      const top = parseVia(vias[0]);
      expect(top.branch).to.equal(branch);
      expect(top.rport).to.equal(String(client().localPort));
      expect(top.received).to.equal('127.0.0.1');
    });

    it('does not fill in rport when the request did not ask for it', async function () {
      const response = await client().request(client().buildRequest('OPTIONS', { rport: false }));
      expect(response.status).to.equal(200);
      expect(parseVia(response.headerValues('Via')[0]).rport ?? null).to.equal(null);
    });

    it('copies From, Call-ID and CSeq and adds a tag to To', async function () {
      const callId = newCallId();
      const fromTag = newTag();
      const request = client().buildRequest('OPTIONS', { callId, fromTag, cseq: 4711 });
      const response = await client().request(request);
      expect(response.header('From')).to.equal(`<sip:watcher@127.0.0.1>;tag=${fromTag}`);
      expect(response.callId).to.equal(callId);
      expect(response.header('CSeq')).to.equal('4711 OPTIONS');
      expect(uriOf(response.header('To') ?? '')).to.equal(`sip:6002@127.0.0.1:${client().serverPort}`);
      expect(response.toTag).to.be.a('string').and.not.be.empty;
    });

    it('keeps the To tag of a request that already has one', async function () {
      const response = await client().request(client().buildRequest('OPTIONS', { toTag: 'existing-tag' }));
      expect(response.status).to.equal(200);
      expect(response.toTag).to.equal('existing-tag');
    });

    for (const method of ['MESSAGE', 'INFO', 'REGISTER']) {
      it(`answers ${method} with 405 and Allow`, async function () {
        const response = await client().request(
          client().buildRequest(method, { body: method === 'MESSAGE' ? 'hello' : '', set: method === 'MESSAGE' ? { 'Content-Type': 'text/plain' } : {} }),
        );
        expect(response.status).to.equal(405);
        expectAllowsPresenceMethods(response);
        expect(response.toTag).to.be.a('string').and.not.be.empty;
      });
    }

    it('answers INVITE with 405 and Allow', async function () {
      const callId = newCallId();
      const fromTag = newTag();
      const branch = newBranch();
      const response = await client().request(client().buildRequest('INVITE', { callId, fromTag, branch }));
      expect(response.status).to.equal(405);
      expectAllowsPresenceMethods(response);
      // RFC 3261 §17.1.1.3: the ACK for a non-2xx final response reuses the INVITE's branch.
      await client().send(
        client().buildRequest('ACK', { callId, fromTag, branch, toTag: response.toTag, set: { Contact: null, 'User-Agent': null } }),
      );
    });

    it('does not answer an ACK', async function () {
      const callId = newCallId();
      await client().send(client().buildRequest('ACK', { callId, toTag: newTag() }));
      await client().expectNone((message) => message.callId === callId, 700, 'response to ACK');
      expect((await client().request(client().buildRequest('OPTIONS'))).status).to.equal(200);
    });
  });

  it('leaves a disabled transport out of the listening line', async function () {
    const udpOnly = await startServer({ tcp: 'off' });
    try {
      expect(udpOnly.udpPort).to.be.above(0);
      expect(udpOnly.tcpPort).to.equal(0);
    } finally {
      await udpOnly.stop();
    }
  });
});
