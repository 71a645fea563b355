// Datagrams that are not valid SIP must not take the server down or lose stored states.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { UdpSipClient } from '../helpers/sip-client.js';
import { useServer, useSharedClient } from '../helpers/suite.js';

describe('integration: robustness over UDP', function () {
  const server = useServer();
  const client = useSharedClient(() => UdpSipClient.open(server().udpPort));

  before(async function () {
    const change = await server().cli(['change', 'CustomPresence:7000', 'xa,,Still stored']);
    expect(change.code, change.stderr).to.equal(0);
  });

  const datagrams: Array<[string, () => Buffer]> = [
    ['a garbage datagram', () => Buffer.from('hello there, this is not SIP\r\n\r\n')],
    ['a truncated SUBSCRIBE', () => Buffer.from(client().buildSubscribe().slice(0, 150))],
    ['a 60 KB datagram', () => Buffer.from(client().buildRequest('OPTIONS', { set: { 'X-Padding': 'b'.repeat(60 * 1024) } }))],
    ['a binary datagram', () => randomBytes(1024)],
    ['a datagram of NUL bytes', () => Buffer.alloc(512)],
    ['a stray response', () => Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKstray\r\nContent-Length: 0\r\n\r\n')],
  ];

  for (const [title, datagram] of datagrams) {
    it(`survives ${title}`, async function () {
      await client().send(datagram());
      expect((await client().request(client().buildRequest('OPTIONS'))).status).to.equal(200);
    });
  }

  it('still lists the stored states afterwards', async function () {
    const listing = await server().cli(['list']);
    expect(listing.code, listing.stderr).to.equal(0);
    expect(listing.stdout).to.include("'CustomPresence:7000'").and.to.include('Still stored');
  });
});
