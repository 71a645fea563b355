import { expect } from 'chai';
import { SipRequest } from '../../lib/sip/message.js';
import { parseMessage } from '../../lib/sip/parser.js';
import type { SipAnswer } from '../../lib/errors.js';
import { checkRequest } from '../../lib/sip/validate.js';
import { addHeaders, capture, replaceHeader } from './sip-captures.js';

/** checkRequest on the baresip capture with header `name` replaced by `line` (removed when null). */
type Problem = { status: number; reason: string };

/** The status and reason of checkRequest's answer (its registry code aside). */
function check(request: SipRequest): Problem | undefined {
  const answer: SipAnswer | undefined = checkRequest(request);
  return answer && { status: answer.status, reason: answer.reason };
}

function checkEdited(name: string, line: string | null): Problem | undefined {
  return check(parseMessage(replaceHeader(capture('baresip'), name, line)) as SipRequest);
}

function checkText(text: string): Problem | undefined {
  return check(parseMessage(text) as SipRequest);
}

const badRequest = (reason: string): Problem => ({ status: 400, reason });

describe('sip/validate checkRequest', () => {
  it('accepts the captured SUBSCRIBEs', () => {
    for (const name of ['baresip', 'linphonec', 'sipp'] as const) {
      expect(checkRequest(parseMessage(capture(name)) as SipRequest), name).to.equal(undefined);
    }
  });

  it('reports a framing problem first', () => {
    const text = replaceHeader(replaceHeader(capture('baresip'), 'Content-Length', 'Content-Length: 12'), 'Via', null);
    expect(checkText(text)).to.deep.equal(badRequest('Bad Content-Length'));
    expect(checkText(addHeaders(capture('baresip'), 'no colon here'))).to.deep.equal(badRequest('Malformed header line'));
  });

  it('requires a usable top Via', () => {
    expect(checkEdited('Via', null)).to.deep.equal(badRequest('Missing Via header'));
    expect(checkEdited('Via', 'Via: SIP/2.0/UDP')).to.deep.equal(badRequest('Malformed Via header'));
    expect(checkEdited('Via', 'Via: ,')).to.deep.equal(badRequest('Missing Via header'));
  });

  it('requires From with a tag', () => {
    expect(checkEdited('From', null)).to.deep.equal(badRequest('Missing From header'));
    expect(checkEdited('From', 'From: <sip:bob@127.0.0.1')).to.deep.equal(badRequest('Malformed From header'));
    expect(checkEdited('From', 'From: <sip:bob@127.0.0.1>')).to.deep.equal(badRequest('Missing From tag'));
    expect(checkEdited('From', 'From: <sip:bob@127.0.0.1>;tag=')).to.deep.equal(badRequest('Missing From tag'));
    expect(checkText(addHeaders(capture('baresip'), 'f: <sip:eve@h>;tag=2')))
      .to.deep.equal(badRequest('Multiple From headers'));
  });

  it('requires To', () => {
    expect(checkEdited('To', null)).to.deep.equal(badRequest('Missing To header'));
    expect(checkEdited('To', 'To: alice')).to.deep.equal(badRequest('Malformed To header'));
  });

  it('requires Call-ID', () => {
    expect(checkEdited('Call-ID', null)).to.deep.equal(badRequest('Missing Call-ID header'));
    expect(checkEdited('Call-ID', 'Call-ID:')).to.deep.equal(badRequest('Malformed Call-ID header'));
    expect(checkEdited('Call-ID', 'Call-ID: a b')).to.deep.equal(badRequest('Malformed Call-ID header'));
  });

  it('requires a CSeq whose method matches the request', () => {
    expect(checkEdited('CSeq', null)).to.deep.equal(badRequest('Missing CSeq header'));
    expect(checkEdited('CSeq', 'CSeq: SUBSCRIBE')).to.deep.equal(badRequest('Malformed CSeq header'));
    expect(checkEdited('CSeq', 'CSeq: 4294967296 SUBSCRIBE')).to.deep.equal(badRequest('Malformed CSeq header'));
    expect(checkEdited('CSeq', 'CSeq: 1 NOTIFY')).to.deep.equal(badRequest('CSeq method does not match'));
  });

  it('checks Max-Forwards when present', () => {
    expect(checkEdited('Max-Forwards', null)).to.equal(undefined);
    expect(checkEdited('Max-Forwards', 'Max-Forwards: ten')).to.deep.equal(badRequest('Malformed Max-Forwards header'));
    expect(checkEdited('Max-Forwards', 'Max-Forwards: -1')).to.deep.equal(badRequest('Malformed Max-Forwards header'));
    expect(checkEdited('Max-Forwards', 'Max-Forwards: 0')).to.deep.equal({ status: 483, reason: 'Too Many Hops' });
    expect(checkEdited('Max-Forwards', 'Max-Forwards: 1')).to.equal(undefined);
  });

  describe('Request-URI', () => {
    function withUri(uri: string): Problem | undefined {
      return checkText(capture('baresip').replace('SUBSCRIBE sip:alice@127.0.0.1:5070 SIP/2.0', `SUBSCRIBE ${uri} SIP/2.0`));
    }

    it('rejects an unparseable URI with 400', () => {
      expect(withUri('alice')).to.deep.equal(badRequest('Malformed Request-URI'));
      expect(withUri('sip:alice@')).to.deep.equal(badRequest('Malformed Request-URI'));
      expect(withUri('sip:alice@h:99999')).to.deep.equal(badRequest('Malformed Request-URI'));
    });

    it('rejects schemes other than sip and sips with 416', () => {
      expect(withUri('tel:+12015550123')).to.deep.equal({ status: 416, reason: 'Unsupported URI Scheme' });
      expect(withUri('http://example.com/')).to.deep.equal({ status: 416, reason: 'Unsupported URI Scheme' });
      expect(withUri('sips:alice@127.0.0.1')).to.equal(undefined);
      expect(withUri('SIP:alice@127.0.0.1')).to.equal(undefined);
    });
  });

  it('rejects a Content-Length that is not a non-negative integer', () => {
    const req = parseMessage(capture('baresip')) as SipRequest;
    req.headers.set('content-length', ['-5']);
    expect(check(req)).to.deep.equal(badRequest('Bad Content-Length'));
  });

  it('reports problems in the documented order', () => {
    let text = replaceHeader(capture('baresip'), 'Max-Forwards', 'Max-Forwards: 0');
    text = replaceHeader(text, 'CSeq', 'CSeq: 1 NOTIFY');
    expect(checkText(text)).to.deep.equal(badRequest('CSeq method does not match'));
    text = replaceHeader(text, 'From', 'From: <sip:bob@h>');
    expect(checkText(text)).to.deep.equal(badRequest('Missing From tag'));
    text = replaceHeader(text, 'Via', null);
    expect(checkText(text)).to.deep.equal(badRequest('Missing Via header'));
  });
});
