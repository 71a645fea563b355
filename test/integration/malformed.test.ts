// Requests the server must refuse (RFC 3261 §8.2, §16.3, §21.4) and the reason phrases that explain why.
import { expect } from 'chai';
import { newCallId } from '../helpers/sip-client.js';
import type { RequestOptions } from '../helpers/sip-client.js';
import { forEachTransport, useServer } from '../helpers/suite.js';

interface BadRequest {
  title: string;
  options: RequestOptions;
  reason: RegExp;
}

const BAD_REQUESTS: BadRequest[] = [
  { title: 'without Call-ID', options: { set: { 'Call-ID': null } }, reason: /Call-ID/i },
  { title: 'without From', options: { set: { From: null } }, reason: /From/i },
  { title: 'without To', options: { set: { To: null } }, reason: /\bTo\b/i },
  { title: 'without CSeq', options: { set: { CSeq: null } }, reason: /CSeq/i },
  { title: 'with a From that has no tag', options: { set: { From: '<sip:watcher@127.0.0.1>' } }, reason: /From|tag/i },
  { title: 'with a malformed CSeq', options: { set: { CSeq: 'one SUBSCRIBE' } }, reason: /CSeq/i },
  { title: 'whose CSeq names another method', options: { set: { CSeq: '1 OPTIONS' } }, reason: /CSeq/i },
];

// Content-Length problems break stream framing, so they are only meaningful as datagrams (RFC 3261 §18.3).
const BAD_DATAGRAMS: BadRequest[] = [
  { title: 'with a non-numeric Content-Length', options: { set: { 'Content-Length': 'ten' } }, reason: /Content-Length/i },
  { title: 'with a Content-Length larger than the body', options: { set: { 'Content-Length': '500' } }, reason: /Content-Length/i },
];

describe('integration: malformed and unroutable requests', function () {
  const server = useServer();

  forEachTransport(server, (client, transport) => {
    const cases = transport === 'UDP' ? [...BAD_REQUESTS, ...BAD_DATAGRAMS] : BAD_REQUESTS;
    for (const { title, options, reason } of cases) {
      it(`answers a SUBSCRIBE ${title} with 400 naming the problem`, async function () {
        const response = await client().request(client().buildSubscribe(options));
        expect(response.status).to.equal(400);
        expect(response.reason).to.match(reason);
      });
    }

    it('cannot answer a SUBSCRIBE without Via, and keeps serving', async function () {
      const callId = newCallId();
      await client().send(client().buildSubscribe({ callId, set: { Via: null } }));
      await client().expectNone((message) => message.callId === callId, 700, 'response to a request without Via');
      expect((await client().request(client().buildRequest('OPTIONS'))).status).to.equal(200);
    });

    for (const uri of ['tel:6002', 'mailto:x@y']) {
      it(`answers a SUBSCRIBE to ${uri} with 416`, async function () {
        const response = await client().request(client().buildSubscribe({ uri }));
        expect(response.status).to.equal(416);
      });
    }

    it('answers a SUBSCRIBE with Max-Forwards: 0 with 483', async function () {
      const response = await client().request(client().buildSubscribe({ set: { 'Max-Forwards': '0' } }));
      expect(response.status).to.equal(483);
    });
  });
});
