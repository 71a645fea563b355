import { expect } from 'chai';
import { answerNotify } from '../../bench/lib/notify-answer.js';
import { parseMessage } from '../../lib/sip/parser.js';
import { buildResponse } from '../../lib/sip/response.js';
import type { SipRequest, SipResponse } from '../../lib/sip/message.js';

const NOTIFY = [
  'NOTIFY sip:w1@127.0.0.1:5070 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport',
  'v: SIP/2.0/UDP proxy;branch=z9hG4bK0',
  'Max-Forwards: 70',
  'From: <sip:200000@127.0.0.1>;tag=abc',
  't: <sip:w1@127.0.0.1>;tag=def',
  'Call-ID: c-1',
  'CSeq: 42 NOTIFY',
  'Event: presence',
  'Content-Length: 4',
  '',
  'body',
].join('\r\n');

describe('bench/notify-answer (the watcher process\'s 200 to a NOTIFY)', () => {
  it('copies Via (every line, in order), From, To, Call-ID and CSeq as the full builder does', () => {
    const answer = answerNotify(Buffer.from(NOTIFY))!;
    expect(answer.callId).to.equal('c-1');
    expect(answer.cseq).to.equal(42);
    const fast = parseMessage(answer.response) as SipResponse;
    const full = parseMessage(buildResponse(parseMessage(NOTIFY) as SipRequest, 200, 'OK')) as SipResponse;
    expect(fast.status).to.equal(200);
    for (const name of ['via', 'from', 'to', 'call-id', 'cseq', 'content-length']) {
      expect(fast.getAll(name), name).to.deep.equal(full.getAll(name));
    }
    expect(fast.body).to.equal('');
  });

  it('keeps non-ASCII bytes as they were', () => {
    const text = NOTIFY.replace('<sip:200000@127.0.0.1>', '"Zoë" <sip:200000@127.0.0.1>');
    const answer = answerNotify(Buffer.from(text))!;
    expect((parseMessage(answer.response) as SipResponse).get('from')).to.equal('"Zoë" <sip:200000@127.0.0.1>;tag=abc');
  });

  it('leaves anything unusual to the full parser', () => {
    expect(answerNotify(Buffer.from(NOTIFY.replace('NOTIFY sip', 'OPTIONS sip')))).to.equal(undefined);
    expect(answerNotify(Buffer.from(NOTIFY.replace('Call-ID: c-1\r\n', '')))).to.equal(undefined);
    expect(answerNotify(Buffer.from(NOTIFY.replace('Event: presence', 'Event: presence\r\n ;id=1')))).to.equal(undefined);
    expect(answerNotify(Buffer.from(NOTIFY.replace(/\r\n/g, '\n')))).to.equal(undefined);
    expect(answerNotify(Buffer.from('NOTIFY sip:a@h SIP/2.0\r\nCall-ID: x'))).to.equal(undefined);
  });
});
