import { expect } from 'chai';
import { contactUri, pinFlow, rebindFlow, TCP, TLS, transportKind, UDP, unpinFlow, viaHeader, WS, WSS, type Connection, type Flow } from '../../lib/sip/transport.js';

function connection(id: number): Connection {
  return { id, pins: 0, closed: false };
}

describe('sip/transport kinds and connection pins', () => {
  it('declares what each transport is: Via token, reliability, dialling out, security, URI parameter', () => {
    expect([UDP, TCP, TLS, WS, WSS].map((kind) => [kind.via, kind.reliable, kind.dialsOut, kind.secure, kind.uriParam])).to.deep.equal([
      ['UDP', false, true, false, 'udp'],
      ['TCP', true, true, false, 'tcp'],
      ['TLS', true, false, true, 'tls'],
      ['WS', true, false, false, 'ws'],
      ['WSS', true, false, true, 'wss'],
    ]);
    expect(transportKind('wss')).to.equal(WSS);
    expect(transportKind('SCTP')).to.equal(undefined);
  });

  it('builds Via and Contact from the transport that carries the message', () => {
    const flow: Flow = { kind: WSS, remoteHost: '127.0.0.1', remotePort: 40000, localHost: '127.0.0.1', localPort: 8089 };
    expect(viaHeader(flow, '127.0.0.1:8089', 'z9hG4bKx')).to.equal('Via: SIP/2.0/WSS 127.0.0.1:8089;branch=z9hG4bKx;rport\r\n');
    expect(contactUri(TLS, '[::1]:5061')).to.equal('sip:[::1]:5061;transport=tls');
    expect(contactUri(TLS, '[::1]:5061', true), 'a SIPS dialog (RFC 3261 §12.1.1)').to.equal('sips:[::1]:5061');
    expect(contactUri(WSS, 'pbx:8089', true)).to.equal('sips:pbx:8089;transport=wss');
  });

  it('counts the subscriptions holding a flow into its connection, and moves them with the flow', () => {
    const first = connection(1);
    const flow: Flow = { kind: TCP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '127.0.0.1', localPort: 5060, connection: first };
    pinFlow(flow);
    pinFlow(flow);
    expect(first.pins).to.equal(2);
    const second = connection(2);
    rebindFlow(flow, second, '127.0.0.2', 5080);
    expect([first.pins, second.pins, flow.remoteHost, flow.remotePort]).to.deep.equal([0, 2, '127.0.0.2', 5080]);
    unpinFlow(flow);
    expect([second.pins, flow.pins]).to.deep.equal([1, 1]);
  });

  it('pins a flow with no connection yet (restored), so the connection it opens later is pinned', () => {
    const flow: Flow = { kind: TCP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '', localPort: 0 };
    pinFlow(flow);
    const opened = connection(7);
    rebindFlow(flow, opened, '127.0.0.1', 5070);
    expect(opened.pins).to.equal(1);
  });
});
