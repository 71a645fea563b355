import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { SipRequest } from '../../lib/sip/message.js';
import { parseMessage } from '../../lib/sip/parser.js';
import { buildResponse, responseDestination, stampReceived } from '../../lib/sip/response.js';
import { addHeaders, capture, replaceHeader, type CaptureName } from './sip-captures.js';

/** Golden responses are stored byte-exact, CRLF line ends included, and compared without any conversion. */
function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'sip', 'responses', `${name}.txt`), 'utf8');
}

function parseRequest(text: string): SipRequest {
  return parseMessage(text) as SipRequest;
}

function request(name: CaptureName): SipRequest {
  return parseRequest(capture(name));
}

/** The sipp capture as an in-dialog refresh that went through two proxies. */
function proxiedRefresh(): SipRequest {
  const refresh = replaceHeader(capture('sipp'), 'To', 'To: <sip:7000@127.0.0.1:5070>;tag=srv-1');
  return parseRequest(addHeaders(refresh,
    'Via: SIP/2.0/UDP proxy1.example.com;branch=z9hG4bKp1, SIP/2.0/TCP 10.0.0.2:5080;branch=z9hG4bKp2'));
}

describe('sip/response', () => {
  describe('buildResponse', () => {
    it('answers the baresip SUBSCRIBE with 200, a To tag and extra headers', () => {
      const req = request('baresip');
      stampReceived(req, '127.0.0.1', 5090);
      const text = buildResponse(req, 200, 'OK', {
        toTag: 'a73kszlfl',
        headers: [['Expires', '600'], ['Contact', '<sip:alice@127.0.0.1:5070>']],
      });
      expect(text).to.equal(golden('baresip-200'));
    });

    it('answers the linphonec SUBSCRIBE with 489 and Allow-Events after a NAT rewrote its source', () => {
      const req = request('linphonec');
      stampReceived(req, '192.0.2.7', 40000);
      const text = buildResponse(req, 489, 'Bad Event', { toTag: 'b42', headers: [['Allow-Events', 'presence']] });
      expect(text).to.equal(golden('linphonec-489'));
    });

    it('writes a body with its Content-Type and a Content-Length in bytes', () => {
      const text = buildResponse(request('sipp'), 403, 'Forbidden', {
        toTag: 'c1', body: 'Zugriff auf 7000 verweigert – Grüße\r\n', contentType: 'text/plain;charset=utf-8',
      });
      expect(text).to.equal(golden('sipp-403-body'));
      expect(buildResponse(request('sipp'), 400, 'Bad Request', { body: 'x' })).to.contain('\r\nContent-Type: text/plain\r\n');
    });

    it('copies every Via element on its own line and keeps an existing To tag', () => {
      expect(buildResponse(proxiedRefresh(), 200, 'OK', { toTag: 'other' })).to.equal(golden('proxied-refresh-200'));
    });

    it('adds no To tag without one and skips headers the request lacks', () => {
      const req = parseRequest(replaceHeader(capture('sipp'), 'Call-ID', null));
      const text = buildResponse(req, 100, 'Trying');
      expect(text).to.contain('\r\nTo: <sip:7000@127.0.0.1:5070>\r\n');
      expect(text).not.to.contain('Call-ID');
      expect(text.endsWith('\r\nContent-Length: 0\r\n\r\n')).to.equal(true);
    });
  });

  describe('stampReceived', () => {
    it('fills rport and always adds received when rport was asked for (RFC 3581 §4)', () => {
      const req = request('sipp');
      stampReceived(req, '127.0.0.1', 5081);
      expect(req.get('via')).to.equal('SIP/2.0/UDP 127.0.0.1:5081;rport=5081;branch=z9hG4bK-6924-1-0;received=127.0.0.1');
    });

    it('adds received only when the source differs from sent-by (RFC 3261 §18.2.1)', () => {
      const same = parseRequest(replaceHeader(capture('sipp'), 'Via', 'Via: SIP/2.0/UDP 127.0.0.1:5081;branch=z9hG4bK1'));
      stampReceived(same, '127.0.0.1', 6000);
      expect(same.get('via')).to.equal('SIP/2.0/UDP 127.0.0.1:5081;branch=z9hG4bK1');
      const named = parseRequest(replaceHeader(capture('sipp'), 'Via', 'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1'));
      stampReceived(named, '10.0.0.9', 6000);
      expect(named.get('via')).to.equal('SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1;received=10.0.0.9');
    });

    it('compares IPv6 sources without brackets and writes received without them', () => {
      const same = parseRequest(replaceHeader(capture('sipp'), 'Via', 'Via: SIP/2.0/UDP [2001:DB8::1]:5060;branch=z9hG4bK1'));
      stampReceived(same, '2001:db8::1', 5060);
      // Nothing to add: the Via is echoed exactly as received (RFC 3261 §8.2.6.2).
      expect(same.get('via')).to.equal('SIP/2.0/UDP [2001:DB8::1]:5060;branch=z9hG4bK1');
      const other = parseRequest(replaceHeader(capture('sipp'), 'Via', 'Via: SIP/2.0/UDP [2001:db8::1];rport;branch=z9hG4bK1'));
      stampReceived(other, '2001:db8::2', 7000);
      expect(other.get('via')).to.equal('SIP/2.0/UDP [2001:db8::1];rport=7000;branch=z9hG4bK1;received=2001:db8::2');
      expect(responseDestination(other)).to.deep.equal({ host: '2001:db8::2', port: 7000 });
    });

    it('rewrites only the top Via element', () => {
      const req = proxiedRefresh();
      stampReceived(req, '198.51.100.1', 5060);
      expect(req.headers.get('via')).to.deep.equal([
        'SIP/2.0/UDP proxy1.example.com;branch=z9hG4bKp1;received=198.51.100.1, SIP/2.0/TCP 10.0.0.2:5080;branch=z9hG4bKp2',
        'SIP/2.0/UDP 127.0.0.1:5081;rport;branch=z9hG4bK-6924-1-0',
      ]);
    });

    it('leaves a request without a usable Via alone', () => {
      const missing = parseRequest(replaceHeader(capture('sipp'), 'Via', null));
      stampReceived(missing, '10.0.0.1', 5060);
      expect(missing.has('via')).to.equal(false);
      const malformed = parseRequest(replaceHeader(capture('sipp'), 'Via', 'Via: nonsense'));
      stampReceived(malformed, '10.0.0.1', 5060);
      expect(malformed.get('via')).to.equal('nonsense');
    });
  });

  describe('responseDestination', () => {
    function destination(via: string): { host: string; port: number } | undefined {
      return responseDestination(parseRequest(replaceHeader(capture('sipp'), 'Via', `Via: ${via}`)));
    }

    it('prefers received and rport', () => {
      expect(destination('SIP/2.0/UDP h:5081;rport=40000;received=192.0.2.7')).to.deep.equal({ host: '192.0.2.7', port: 40000 });
      const req = request('baresip');
      stampReceived(req, '192.0.2.8', 41000);
      expect(responseDestination(req)).to.deep.equal({ host: '192.0.2.8', port: 41000 });
    });

    it('falls back to the sent-by port, then 5060', () => {
      expect(destination('SIP/2.0/UDP h:5081;received=10.0.0.1')).to.deep.equal({ host: '10.0.0.1', port: 5081 });
      expect(destination('SIP/2.0/UDP h.example.com;rport')).to.deep.equal({ host: 'h.example.com', port: 5060 });
      expect(destination('SIP/2.0/UDP [::1];rport=x')).to.deep.equal({ host: '::1', port: 5060 });
    });

    it('has no answer without a usable Via', () => {
      expect(destination('garbage')).to.equal(undefined);
      expect(responseDestination(parseRequest(replaceHeader(capture('sipp'), 'Via', null)))).to.equal(undefined);
    });
  });
});
