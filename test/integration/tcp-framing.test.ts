// Stream framing over TCP (RFC 3261 §18.3), CRLF keep-alives (RFC 5626 §4.4.1) and oversized messages.
import { expect } from 'chai';
import { newCallId, TcpSipClient, UdpSipClient } from '../helpers/sip-client.js';
import { useClient, useServer } from '../helpers/suite.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('integration: TCP framing', function () {
  const server = useServer();
  const client = useClient(() => TcpSipClient.connect(server().tcpPort));

  async function expectOptionsAnswered(over: TcpSipClient | UdpSipClient = client()): Promise<void> {
    expect((await over.request(over.buildRequest('OPTIONS'))).status).to.equal(200);
  }

  it('answers two requests written in one segment', async function () {
    const first = newCallId();
    const second = newCallId();
    await client().send(client().buildRequest('OPTIONS', { callId: first }) + client().buildRequest('OPTIONS', { callId: second }));
    expect((await client().waitFor((message) => message.callId === first)).status).to.equal(200);
    expect((await client().waitFor((message) => message.callId === second)).status).to.equal(200);
  });

  it('answers a request split across three writes exactly once', async function () {
    const callId = newCallId();
    const request = client().buildRequest('MESSAGE', { callId, body: 'a body split in the middle', set: { 'Content-Type': 'text/plain' } });
    const inHeaders = request.indexOf('Call-ID') + 4;
    const inBody = request.length - 10;
    for (const chunk of [request.slice(0, inHeaders), request.slice(inHeaders, inBody), request.slice(inBody)]) {
      await client().send(chunk);
      await pause(50);
    }
    expect((await client().waitFor((message) => message.callId === callId)).status).to.equal(405);
    await client().expectNone((message) => message.callId === callId, 500, 'second response');
    await expectOptionsAnswered();
  });

  it('answers a request written byte by byte', async function () {
    const callId = newCallId();
    for (const byte of Buffer.from(client().buildRequest('OPTIONS', { callId }))) await client().send(Buffer.from([byte]));
    expect((await client().waitFor((message) => message.callId === callId)).status).to.equal(200);
    await expectOptionsAnswered();
  });

  it('answers a CRLFCRLF keep-alive ping with a CRLF pong', async function () {
    await client().send('\r\n\r\n');
    await client().waitForPongs(1);
    await expectOptionsAnswered();
  });

  it('answers 513 to a request whose body takes it over the size limit, skips the body and keeps the connection', async function () {
    const callId = newCallId();
    const body = 'x'.repeat(200 * 1024);
    const request = client().buildRequest('MESSAGE', { callId, body, set: { 'Content-Type': 'text/plain' } });
    // The body in pieces: the server answers from the head and reads the rest without keeping it.
    const headEnd = request.indexOf('\r\n\r\n') + 4;
    await client().send(request.slice(0, headEnd + 1000));
    const response = await client().waitFor((message) => message.callId === callId);
    expect([response.status, response.reason]).to.deep.equal([513, 'Message Too Large (over 32768 bytes)']);
    await client().send(request.slice(headEnd + 1000));
    await expectOptionsAnswered();
    expect(client().isClosed).to.equal(false);
  });

  it('closes a connection whose header section passes the size limit (it cannot be framed), and keeps serving', async function () {
    const callId = newCallId();
    const huge = client().buildRequest('OPTIONS', { callId, set: { 'X-Padding': 'a'.repeat(200 * 1024) } });
    await client().send(huge).catch(() => undefined);
    const outcome = await client().waitFor((message) => message.callId === callId, 10000).then(
      (response) => response.status,
      (error: Error) => (client().isClosed ? 'closed' : Promise.reject(error)),
    );
    expect(outcome).to.equal('closed');

    const fresh = await TcpSipClient.connect(server().tcpPort);
    try {
      await expectOptionsAnswered(fresh);
    } finally {
      await fresh.close();
    }
    const udp = await UdpSipClient.open(server().udpPort);
    try {
      await expectOptionsAnswered(udp);
    } finally {
      await udp.close();
    }
  });
});
