import { expect } from 'chai';
import {
  cseqMethod, formatVia, parseAccept, parseCSeq, parseEvent, parseHostPort, parseNameAddr, parseParams,
  parseSubscriptionState, parseVia, splitHeaderValues, topViaBranch,
} from '../../lib/sip/headers.js';

describe('sip/headers', () => {
  describe('splitHeaderValues', () => {
    it('splits at commas outside quotes and angle brackets', () => {
      expect(splitHeaderValues('a, b ,c')).to.deep.equal(['a', 'b', 'c']);
      expect(splitHeaderValues('"Doe, John" <sip:j@h>, <sip:k@h;x=a,b>;q=1')).to.deep.equal([
        '"Doe, John" <sip:j@h>', '<sip:k@h;x=a,b>;q=1',
      ]);
      expect(splitHeaderValues('"say \\"hi, there\\"" <sip:a@h>, b')).to.deep.equal([
        '"say \\"hi, there\\"" <sip:a@h>', 'b',
      ]);
    });

    it('drops empty elements', () => {
      expect(splitHeaderValues('')).to.deep.equal([]);
      expect(splitHeaderValues('  ')).to.deep.equal([]);
      expect(splitHeaderValues('a,,b, ')).to.deep.equal(['a', 'b']);
      expect(splitHeaderValues(' only ')).to.deep.equal(['only']);
    });
  });

  describe('parseParams', () => {
    it('reads names (lower-cased), values and valueless parameters', () => {
      expect(parseParams(';Branch=z9hG4bK1;rport;received=10.0.0.1')).to.deep.equal({
        branch: 'z9hG4bK1', rport: null, received: '10.0.0.1',
      });
      expect(parseParams('a=1 ; b = 2;;')).to.deep.equal({ a: '1', b: '2' });
      expect(parseParams('')).to.deep.equal({});
      expect(parseParams('__proto__;tag=1')).to.deep.equal({ tag: '1' });
      expect(Object.getPrototypeOf(parseParams('__proto__'))).to.equal(Object.prototype);
    });

    it('keeps quoted values whole, quotes included', () => {
      expect(parseParams(';+sip.instance="<urn:uuid:1;x=2>";reg-id=1')).to.deep.equal({
        '+sip.instance': '"<urn:uuid:1;x=2>"', 'reg-id': '1',
      });
    });
  });

  describe('parseHostPort', () => {
    it('reads host names, IPv4 and IPv6 references with optional ports', () => {
      expect(parseHostPort('Example.COM')).to.deep.equal({ host: 'example.com' });
      expect(parseHostPort('10.0.0.1:5060')).to.deep.equal({ host: '10.0.0.1', port: 5060 });
      expect(parseHostPort('[2001:DB8::1]:5061')).to.deep.equal({ host: '[2001:db8::1]', port: 5061 });
      expect(parseHostPort('[::1]')).to.deep.equal({ host: '[::1]' });
    });

    it('rejects empty hosts and bad ports', () => {
      for (const text of ['', ':5060', 'h:', 'h:0', 'h:65536', 'h:50a', 'h:-1', '[::1', '[xyz]', 'a b', 'h:5060:1']) {
        expect(parseHostPort(text), text).to.equal(undefined);
      }
    });
  });

  describe('parseNameAddr', () => {
    it('reads a quoted display name, URI and header parameters', () => {
      expect(parseNameAddr('"Bob \\"B\\" Smith" <sip:bob@h;transport=tcp>;tag=x;expires=5')).to.deep.equal({
        display: 'Bob "B" Smith', uri: 'sip:bob@h;transport=tcp', params: { tag: 'x', expires: '5' },
      });
    });

    it('reads a token display name and a bare name-addr', () => {
      expect(parseNameAddr('Bob Smith <sip:bob@h>')).to.deep.equal({
        display: 'Bob Smith', uri: 'sip:bob@h', params: {},
      });
      expect(parseNameAddr('<sip:bob@h>')).to.deep.equal({ uri: 'sip:bob@h', params: {} });
      expect(parseNameAddr('"" <sip:bob@h>')).to.deep.equal({ uri: 'sip:bob@h', params: {} });
    });

    it('gives parameters after an addr-spec to the header (RFC 3261 §20.10)', () => {
      expect(parseNameAddr('sip:bob@h;tag=x')).to.deep.equal({ uri: 'sip:bob@h', params: { tag: 'x' } });
      expect(parseNameAddr('tel:+123')).to.deep.equal({ uri: 'tel:+123', params: {} });
    });

    it('rejects unusable values', () => {
      for (const value of ['', '<>', '<sip:bob@h', '"Bob <sip:bob@h>', '"Bob" sip:bob@h', 'bob', '<bob@h>',
        '<sip:bob@h> tag=1', '"Bob" x <sip:b@h>', '<sip:bob @h>']) {
        expect(parseNameAddr(value), value).to.equal(undefined);
      }
    });
  });

  describe('parseVia / formatVia', () => {
    it('reads transport, sent-by and parameters', () => {
      expect(parseVia('SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKc6;rport')).to.deep.equal({
        transport: 'UDP', host: '127.0.0.1', port: 5090, params: { branch: 'z9hG4bKc6', rport: null },
      });
      expect(parseVia('SIP / 2.0 / tcp  pc33.Example.com ;branch=z9hG4bK1')).to.deep.equal({
        transport: 'TCP', host: 'pc33.example.com', params: { branch: 'z9hG4bK1' },
      });
      expect(parseVia('SIP/2.0/TLS [2001:db8::9]:5061;received=2001:db8::9')).to.deep.equal({
        transport: 'TLS', host: '[2001:db8::9]', port: 5061, params: { received: '2001:db8::9' },
      });
    });

    it('rejects malformed elements', () => {
      for (const value of ['', 'SIP/2.0/UDP', 'SIP/2.0/UDP ', 'SIP/2.0 h', 'SIP/3.0/UDP h', 'HTTP/2.0/UDP h',
        'SIP/2.0/UDPh', 'SIP/2.0/UDP h:0', 'SIP/2.0/UDP h:x;branch=1', 'SIP/2.0/U"P h']) {
        expect(parseVia(value), value).to.equal(undefined);
      }
    });

    it('writes a Via back', () => {
      const text = 'SIP/2.0/UDP 127.0.0.1:5081;rport=5081;branch=z9hG4bK-1;received=10.1.1.1';
      expect(formatVia(parseVia(text)!)).to.equal(text);
      expect(formatVia({ transport: 'TCP', host: 'h', params: {} })).to.equal('SIP/2.0/TCP h');
    });
  });

  describe('parseCSeq', () => {
    it('reads the number and method', () => {
      expect(parseCSeq('49641 SUBSCRIBE')).to.deep.equal({ seq: 49641, method: 'SUBSCRIBE' });
      expect(parseCSeq(' 0\tNOTIFY ')).to.deep.equal({ seq: 0, method: 'NOTIFY' });
      expect(parseCSeq('4294967295 INVITE')).to.deep.equal({ seq: 4294967295, method: 'INVITE' });
    });

    it('rejects numbers beyond 32 bits and malformed values', () => {
      for (const value of ['4294967296 INVITE', '-1 INVITE', '1', '1 ', 'SUBSCRIBE', '1.5 INVITE', '1x INVITE',
        '1 SUB SCRIBE', '00000000001 INVITE']) {
        expect(parseCSeq(value), value).to.equal(undefined);
      }
    });
  });

  describe('parseEvent / parseSubscriptionState', () => {
    it('reads the package lower-cased with its parameters', () => {
      expect(parseEvent('Presence;id=7')).to.deep.equal({ event: 'presence', params: { id: '7' } });
      expect(parseEvent('dialog')).to.deep.equal({ event: 'dialog', params: {} });
      expect(parseEvent('presence.winfo ; id = a')).to.deep.equal({ event: 'presence.winfo', params: { id: 'a' } });
      expect(parseEvent('')).to.equal(undefined);
      expect(parseEvent(';id=1')).to.equal(undefined);
      expect(parseEvent('pres ence')).to.equal(undefined);
    });

    it('reads a Subscription-State', () => {
      expect(parseSubscriptionState('active;expires=600')).to.deep.equal({
        state: 'active', params: { expires: '600' },
      });
      expect(parseSubscriptionState('Terminated;reason=timeout')).to.deep.equal({
        state: 'terminated', params: { reason: 'timeout' },
      });
      expect(parseSubscriptionState('')).to.equal(undefined);
    });
  });

  describe('parseAccept', () => {
    it('reads every range of every line, lower-cased, q kept', () => {
      expect(parseAccept(['application/PIDF+xml;q=0.9, application/xpidf+xml', 'multipart/related;type=x', '*/*']))
        .to.deep.equal([
          { type: 'application/pidf+xml', params: { q: '0.9' } },
          { type: 'application/xpidf+xml', params: {} },
          { type: 'multipart/related', params: { type: 'x' } },
          { type: '*/*', params: {} },
        ]);
    });

    it('skips malformed ranges and empty lines', () => {
      expect(parseAccept(['', 'pidf', 'application/', 'a/b/c', 'text/plain'])).to.deep.equal([
        { type: 'text/plain', params: {} },
      ]);
      expect(parseAccept([])).to.deep.equal([]);
    });
  });

  describe('cseqMethod and topViaBranch (response matching)', () => {
    it('takes the method word of a CSeq', () => {
      expect(cseqMethod('7 NOTIFY')).to.equal('NOTIFY');
      expect(cseqMethod('7 \t NOTIFY ')).to.equal('NOTIFY');
      expect(cseqMethod('7')).to.equal(undefined);
      expect(cseqMethod(undefined)).to.equal(undefined);
    });

    it('finds the branch of the first Via element only', () => {
      expect(topViaBranch('SIP/2.0/UDP h;rport;branch=z9hG4bK1')).to.equal('z9hG4bK1');
      expect(topViaBranch('SIP/2.0/UDP h ; Branch = z9hG4bK1 ;rport')).to.equal('z9hG4bK1');
      expect(topViaBranch('SIP/2.0/UDP h;rport, SIP/2.0/UDP p;branch=z9hG4bK2')).to.equal(undefined);
      expect(topViaBranch('SIP/2.0/UDP h;branches=1')).to.equal(undefined);
      expect(topViaBranch('SIP/2.0/UDP h;x="q"')).to.equal(null);
    });
  });
});
