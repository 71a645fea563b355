import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { expect } from 'chai';
import { parseAccept, parseCSeq, parseEvent, parseNameAddr, parseVia } from '../../lib/sip/headers.js';
import { SipRequest, SipResponse, headerKey } from '../../lib/sip/message.js';
import { parseMessage, SipParseError } from '../../lib/sip/parser.js';
import { parseUri } from '../../lib/sip/uri.js';
import { checkRequest } from '../../lib/sip/validate.js';
import { addHeaders, capture } from './sip-captures.js';

function parseRequest(data: Buffer | string): SipRequest {
  const message = parseMessage(data);
  expect(message).to.be.instanceOf(SipRequest);
  return message as SipRequest;
}

function expectParseError(data: string, reason: string): void {
  expect(() => parseMessage(data)).to.throw(SipParseError, reason);
}

/** A request line plus the given header lines and body, CRLF line ends. */
function request(headerLines: string[], body = ''): string {
  return ['OPTIONS sip:alice@example.com SIP/2.0', ...headerLines, '', body].join('\r\n');
}

describe('sip/parser', () => {
  describe('captured SUBSCRIBEs', () => {
    it("keeps the body's bytes of linphonec's deflated resource list (RFC 5367), which are not text", () => {
      const data = readFileSync('fixtures/lists/linphonec-rls-subscribe.sip');
      const req = parseRequest(data);
      expect(req.get('content-encoding')).to.equal('deflate');
      expect(req.rawBody).to.deep.equal(data.subarray(data.indexOf('\r\n\r\n') + 4));
      expect(req.rawBody.length).to.equal(Number(req.get('content-length')));
      expect(inflateSync(req.rawBody).toString('utf8')).to.contain('<entry uri="sip:6002@127.0.0.1"/>');
      // A body set in code gives its own bytes back.
      req.body = 'replaced';
      expect(req.rawBody.toString('utf8')).to.equal('replaced');
    });

    it('parses the baresip capture', () => {
      const req = parseRequest(Buffer.from(capture('baresip')));
      expect(req.method).to.equal('SUBSCRIBE');
      expect(req.uri).to.equal('sip:alice@127.0.0.1:5070');
      expect(parseVia(req.getAll('via')[0])).to.deep.equal({
        transport: 'UDP', host: '127.0.0.1', port: 5090, params: { branch: 'z9hG4bKc6e485f09a8ceaa6', rport: null },
      });
      expect(parseNameAddr(req.get('from')!)?.params.tag).to.equal('aedf897ebd1b3da0');
      expect(parseNameAddr(req.get('to')!)).to.deep.equal({ uri: 'sip:alice@127.0.0.1:5070', params: {} });
      expect(req.get('call-id')).to.equal('01fef61f09baf4a9');
      expect(parseCSeq(req.get('cseq')!)).to.deep.equal({ seq: 49641, method: 'SUBSCRIBE' });
      expect(parseEvent(req.get('event')!)).to.deep.equal({ event: 'presence', params: {} });
      expect(req.get('expires')).to.equal('600');
      expect(req.get('max-forwards')).to.equal('70');
      expect(req.get('contact')).to.equal('<sip:bob-0x560382d33540@127.0.0.1:5090>');
      expect(req.get('user-agent')).to.equal('baresip v1.0.0 (x86_64/linux)');
      expect(req.headers.get('supported')).to.deep.equal(['']);
      expect(req.getAll('supported')).to.deep.equal([]);
      expect(req.get('content-length')).to.equal('0');
      expect(req.body).to.equal('');
      expect(req.problem).to.equal(undefined);
      expect([...req.headers.keys()]).to.deep.equal([
        'via', 'contact', 'max-forwards', 'to', 'from', 'call-id', 'cseq', 'user-agent', 'event', 'expires',
        'supported', 'content-length',
      ]);
    });

    it('parses the linphonec capture, which has no Content-Length', () => {
      const req = parseRequest(Buffer.from(capture('linphonec')));
      expect(req.uri).to.equal('sip:alice@127.0.0.1:5070');
      expect(parseVia(req.get('via')!)?.params).to.deep.equal({ branch: 'z9hG4bK.bE-CGSMeX', rport: null });
      expect(parseNameAddr(req.get('from')!)?.params.tag).to.equal('n0WYDccFK');
      expect(parseNameAddr(req.get('to')!)).to.deep.equal({ display: 'f1', uri: 'sip:alice@127.0.0.1', params: {} });
      expect(parseCSeq(req.get('cseq')!)).to.deep.equal({ seq: 20, method: 'SUBSCRIBE' });
      expect(req.get('call-id')).to.equal('W~9VPEQn9c');
      expect(req.getAll('supported')).to.deep.equal(['replaces', 'outbound', 'gruu']);
      const contact = parseNameAddr(req.getAll('contact')[0]);
      expect(contact).to.deep.equal({
        uri: 'sip:127.0.0.1:5091;transport=udp',
        params: { '+sip.instance': '"<urn:uuid:a15e05f9-b28c-00ba-a25b-93e7ffe6310d>"' },
      });
      expect(req.has('content-length')).to.equal(false);
      expect(req.body).to.equal('');
      expect(req.problem).to.equal(undefined);
      expect(checkRequest(req)).to.equal(undefined);
    });

    it('parses the sipp capture', () => {
      const req = parseRequest(Buffer.from(capture('sipp')));
      expect(req.uri).to.equal('sip:7000@127.0.0.1:5070');
      expect(parseVia(req.get('via')!)).to.deep.equal({
        transport: 'UDP', host: '127.0.0.1', port: 5081, params: { rport: null, branch: 'z9hG4bK-6924-1-0' },
      });
      expect(parseNameAddr(req.get('from')!)?.params.tag).to.equal('6924w1');
      expect(parseCSeq(req.get('cseq')!)).to.deep.equal({ seq: 1, method: 'SUBSCRIBE' });
      expect(parseAccept(req.getAll('accept'))).to.deep.equal([{ type: 'application/pidf+xml', params: {} }]);
      expect(req.get('expires')).to.equal('3600');
      expect(parseNameAddr(req.get('contact')!)?.uri).to.equal('sip:watcher-1@127.0.0.1:5081;transport=UDP');
    });

    it('gives the same result for a Buffer and a string', () => {
      for (const name of ['baresip', 'linphonec', 'sipp'] as const) {
        const fromBuffer = parseRequest(Buffer.from(capture(name)));
        const fromString = parseRequest(capture(name));
        expect(fromBuffer.headers).to.deep.equal(fromString.headers);
        expect(fromBuffer.body).to.equal(fromString.body);
      }
    });
  });

  describe('header section', () => {
    it('expands compact header names and looks names up case-insensitively', () => {
      const req = parseRequest(request([
        'v: SIP/2.0/UDP h;branch=z9hG4bK1', 'f: <sip:a@h>;tag=1', 't: <sip:b@h>', 'i: abc', 'm: <sip:a@h>',
        'o: presence', 'k: eventlist', 'u: presence', 'c: text/plain', 'l: 2',
      ], 'hi'));
      expect([...req.headers.keys()]).to.deep.equal([
        'via', 'from', 'to', 'call-id', 'contact', 'event', 'supported', 'allow-events', 'content-type',
        'content-length',
      ]);
      expect(req.get('Call-ID')).to.equal('abc');
      expect(req.get('i')).to.equal('abc');
      expect(req.get('CALL-id')).to.equal('abc');
      expect(req.has('V')).to.equal(true);
      expect(req.get('o')).to.equal('presence');
      expect(req.body).to.equal('hi');
    });

    it('maps every compact form to its full name', () => {
      const expected: Record<string, string> = {
        v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
        k: 'supported', o: 'event', u: 'allow-events', e: 'content-encoding', s: 'subject', r: 'refer-to',
        b: 'referred-by', x: 'session-expires', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition',
        y: 'identity', z: 'z', 'Max-Forwards': 'max-forwards',
      };
      for (const [name, key] of Object.entries(expected)) {
        expect(headerKey(name), name).to.equal(key);
        expect(headerKey(name.toUpperCase()), name).to.equal(key);
      }
    });

    it('unfolds continuation lines (RFC 3261 §7.3.1)', () => {
      const req = parseRequest(request([
        'Subject: I know you are there,', '     pick up the phone', '\tand talk to me!',
        'Via: SIP/2.0/UDP h1;branch=z9hG4bK1,', ' SIP/2.0/UDP h2;branch=z9hG4bK2', 'Content-Length: 0',
      ]));
      expect(req.get('subject')).to.equal('I know you are there, pick up the phone and talk to me!');
      expect(req.getAll('via')).to.deep.equal(['SIP/2.0/UDP h1;branch=z9hG4bK1', 'SIP/2.0/UDP h2;branch=z9hG4bK2']);
    });

    it('keeps a header line per value and splits list headers in getAll', () => {
      const req = parseRequest(request([
        'Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5061;branch=z9hG4bK2',
        'Via: SIP/2.0/UDP c;branch=z9hG4bK3',
        'Contact: "Smith, J" <sip:j@h>;q=0.5, <sip:k@h>',
        'Accept: application/pidf+xml', 'Accept: application/xpidf+xml, text/plain',
        'Date: Sat, 13 Nov 2010 23:29:00 GMT',
      ]));
      expect(req.headers.get('via')).to.have.length(2);
      expect(req.getAll('via')).to.deep.equal([
        'SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/TCP b:5061;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3',
      ]);
      expect(req.get('via')).to.equal('SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b:5061;branch=z9hG4bK2');
      expect(req.getAll('contact')).to.deep.equal(['"Smith, J" <sip:j@h>;q=0.5', '<sip:k@h>']);
      expect(req.getAll('accept')).to.deep.equal(['application/pidf+xml', 'application/xpidf+xml', 'text/plain']);
      expect(req.getAll('date')).to.deep.equal(['Sat, 13 Nov 2010 23:29:00 GMT']);
      expect(req.getAll('route')).to.deep.equal([]);
    });

    it('trims values and tolerates whitespace before the colon', () => {
      const req = parseRequest(request(['Expires  :   600  ', 'Subject:', 'X-Empty:   ']));
      expect(req.get('expires')).to.equal('600');
      expect(req.get('subject')).to.equal('');
      expect(req.get('x-empty')).to.equal('');
      expect(req.get('missing')).to.equal(undefined);
      expect(req.getAll('missing')).to.deep.equal([]);
    });

    it('records a header line without a name or colon as a problem', () => {
      expect(parseRequest(request(['Expires: 600', 'garbage line'])).problem).to.equal('Malformed header line');
      expect(parseRequest(request([': no name'])).problem).to.equal('Malformed header line');
      expect(parseRequest(`OPTIONS sip:a@h SIP/2.0\r\n folded-first: x\r\n\r\n`).problem)
        .to.equal('Malformed header line');
    });

    it('skips CRLFs before the start line (RFC 3261 §7.5) and accepts bare LF line ends', () => {
      const req = parseRequest(`\r\n\r\n${capture('sipp')}`);
      expect(req.method).to.equal('SUBSCRIBE');
      const bareLf = parseRequest(capture('baresip').replace(/\r\n/g, '\n'));
      expect(bareLf.get('cseq')).to.equal('49641 SUBSCRIBE');
      expect(bareLf.get('content-length')).to.equal('0');
    });

    it('takes a datagram without a blank line as all headers', () => {
      const req = parseRequest('OPTIONS sip:a@h SIP/2.0\r\nCall-ID: x');
      expect(req.get('call-id')).to.equal('x');
      expect(req.body).to.equal('');
    });
  });

  describe('start line', () => {
    it('parses a response status line', () => {
      const res = parseMessage('SIP/2.0 489 Bad Event\r\nCSeq: 1 SUBSCRIBE\r\n\r\n');
      expect(res).to.be.instanceOf(SipResponse);
      expect((res as SipResponse).status).to.equal(489);
      expect((res as SipResponse).reason).to.equal('Bad Event');
      expect((parseMessage('SIP/2.0 200 \r\n\r\n') as SipResponse).reason).to.equal('');
      expect((parseMessage('SIP/2.0 202\r\n\r\n') as SipResponse).reason).to.equal('');
    });

    it('rejects unusable start lines', () => {
      expectParseError('', 'Empty message');
      expectParseError('\r\n\r\n', 'Empty message');
      expectParseError('hello\r\n\r\n', 'Malformed start line');
      expectParseError('SUBSCRIBE sip:a@h\r\n\r\n', 'Malformed start line');
      expectParseError('SUBSCRIBE  SIP/2.0\r\n\r\n', 'Malformed start line');
      expectParseError('SUBSCRIBE sip:a@h extra SIP/2.0\r\n\r\n', 'Malformed start line');
      expectParseError('SUB<SCRIBE sip:a@h SIP/2.0\r\n\r\n', 'Malformed start line');
      expectParseError('SUBSCRIBE sip:a@h SIP/3.0\r\n\r\n', 'Unsupported SIP version');
      expectParseError('SIP/3.0 200 OK\r\n\r\n', 'Unsupported SIP version');
      expectParseError('SIP/2.0 2000 OK\r\n\r\n', 'Malformed status line');
      expectParseError('SIP/2.0 099 Low\r\n\r\n', 'Malformed status line');
      expectParseError('SIP/2.0 abc OK\r\n\r\n', 'Malformed status line');
    });
  });

  describe('body and Content-Length', () => {
    const utf8Body = 'Grüße, 世界';
    const bytes = Buffer.byteLength(utf8Body);

    it('counts Content-Length in bytes of UTF-8', () => {
      expect(bytes).to.equal(15);
      const text = request([`Content-Length: ${bytes}`], utf8Body);
      for (const data of [text, Buffer.from(text)]) {
        const req = parseRequest(data);
        expect(req.body).to.equal(utf8Body);
        expect(req.problem).to.equal(undefined);
      }
    });

    it('ignores bytes beyond Content-Length (RFC 3261 §18.3)', () => {
      const text = request(['Content-Length: 7'], `${utf8Body}trailing`);
      for (const data of [text, Buffer.from(text)]) {
        const req = parseRequest(data);
        expect(req.body).to.equal('Grüße');
        expect(req.problem).to.equal(undefined);
      }
      expect(parseRequest(request(['Content-Length: 3'], 'abcdef')).body).to.equal('abc');
    });

    it('takes the rest as the body when Content-Length is absent', () => {
      expect(parseRequest(request([], utf8Body)).body).to.equal(utf8Body);
      expect(parseRequest(Buffer.from(request([], utf8Body))).body).to.equal(utf8Body);
    });

    it('records a Content-Length larger than the body, keeping what arrived', () => {
      const text = request([`Content-Length: ${bytes + 1}`], utf8Body);
      for (const data of [text, Buffer.from(text)]) {
        const req = parseRequest(data);
        expect(req.problem).to.equal('Bad Content-Length');
        expect(req.body).to.equal(utf8Body);
      }
      expect(parseRequest(request(['Content-Length: 1'])).problem).to.equal('Bad Content-Length');
    });

    it('records a non-numeric, negative or contradictory Content-Length', () => {
      for (const value of ['abc', '-1', '1.5', '+2', '0x10', '']) {
        const req = parseRequest(request([`Content-Length: ${value}`], 'ab'));
        expect(req.problem, value).to.equal('Bad Content-Length');
        expect(req.body, value).to.equal('ab');
      }
      expect(parseRequest(request(['Content-Length: 2', 'l: 1'], 'ab')).problem).to.equal('Bad Content-Length');
      expect(parseRequest(request(['Content-Length: 2', 'l: 2'], 'ab')).problem).to.equal(undefined);
    });

    it('records the first problem only', () => {
      const req = parseRequest(request(['garbage', 'Content-Length: x']));
      expect(req.problem).to.equal('Malformed header line');
    });
  });

  describe('received responses (header lines split on demand)', () => {
    const lines = [
      'SIP/2.0 200 OK',
      'v: SIP/2.0/UDP 127.0.0.1:5060;BRANCH=z9hG4bKabc;rport=5060, SIP/2.0/UDP proxy;branch=z9hG4bKdef',
      'From: <sip:a@h>;tag=1',
      'TO: <sip:b@h>;tag=2',
      'i: call-1',
      'Subject: folded',
      '  on two lines',
      'CSeq: 7 NOTIFY',
      'Retry-After: 5',
      'Content-Length: 2',
      '',
      'ok',
    ];
    const text = lines.join('\r\n');

    it('answers get() and topVia() exactly as a string parse does, then the rest on demand', () => {
      const fromBuffer = parseMessage(Buffer.from(text)) as SipResponse;
      const fromString = parseMessage(text) as SipResponse;
      expect(fromBuffer).to.be.instanceOf(SipResponse);
      expect(fromBuffer.status).to.equal(200);
      for (const name of ['cseq', 'Via', 'to', 'call-id', 'from', 'retry-after', 'subject', 'missing', 'v', 'T', 'c']) {
        expect(fromBuffer.get(name), name).to.equal(fromString.get(name));
      }
      expect(fromBuffer.get('subject')).to.equal('folded on two lines');
      expect(fromBuffer.topVia()).to.deep.equal(fromString.topVia());
      expect(fromBuffer.headers).to.deep.equal(fromString.headers);
      expect(fromBuffer.body).to.equal('ok');
      expect(fromBuffer.problem).to.equal(undefined);
      expect(fromBuffer.getAll('via')).to.have.length(2);
    });

    it('reads the top Via branch without parsing the Via, and agrees with parseVia', () => {
      const response = parseMessage(Buffer.from(text)) as SipResponse;
      expect(response.topViaBranch()).to.equal('z9hG4bKabc');
      expect(response.topVia()?.params['branch']).to.equal('z9hG4bKabc');
      const quoted = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;x="a;b";branch=z9hG4bK1\r\n\r\n')) as SipResponse;
      expect(quoted.topViaBranch()).to.equal('z9hG4bK1');
      const none = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branchy=1;branch\r\n\r\n')) as SipResponse;
      expect(none.topViaBranch()).to.equal(undefined);
      expect((parseMessage(Buffer.from('SIP/2.0 200 OK\r\n\r\n')) as SipResponse).topViaBranch()).to.equal(undefined);
    });

    it('records framing problems when asked', () => {
      const bad = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 1 NOTIFY\r\nContent-Length: 9\r\n\r\nab')) as SipResponse;
      expect(bad.get('cseq')).to.equal('1 NOTIFY');
      expect(bad.problem).to.equal('Bad Content-Length');
      expect(bad.body).to.equal('ab');
    });
  });

  describe('garbage', () => {
    /** Deterministic pseudo-random numbers so a failure can be reproduced. */
    function random(seed: number): () => number {
      let state = seed;
      return () => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
    }

    it('throws nothing but SipParseError, and the header parsers and checks never throw', () => {
      const next = random(42);
      const originals = [capture('baresip'), capture('linphonec'), addHeaders(capture('sipp'), 'Subject: x')];
      const alphabet = ['\r', '\n', ' ', '\t', ':', ';', ',', '"', '<', '>', '@', '=', '/', '[', ']', '%', 'é', '\0'];
      for (let round = 0; round < 3000; round++) {
        const chars = [...originals[round % originals.length]];
        const edits = 1 + Math.floor(next() * 8);
        for (let edit = 0; edit < edits; edit++) {
          const at = Math.floor(next() * chars.length);
          const choice = next();
          if (choice < 0.4) chars[at] = alphabet[Math.floor(next() * alphabet.length)];
          else if (choice < 0.7) chars.splice(at, 1 + Math.floor(next() * 20));
          else chars.splice(at, 0, ...chars.slice(Math.floor(next() * chars.length)).slice(0, 30));
        }
        const text = chars.join('');
        for (const data of [text, Buffer.from(text)]) {
          let message;
          try {
            message = parseMessage(data);
          } catch (error) {
            expect(error, JSON.stringify(text)).to.be.instanceOf(SipParseError);
            continue;
          }
          if (message instanceof SipRequest) {
            checkRequest(message);
            parseUri(message.uri);
          }
          for (const value of message.getAll('via')) parseVia(value);
          for (const name of ['from', 'to', 'contact']) message.getAll(name).forEach(parseNameAddr);
          parseCSeq(message.get('cseq') ?? '');
          message.topViaBranch();
          parseEvent(message.get('event') ?? '');
          parseAccept(message.getAll('accept'));
        }
      }
    });
  });
});
