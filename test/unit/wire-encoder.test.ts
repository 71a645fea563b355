import { expect } from 'chai';
import { encodeMessage } from '../../lib/sip/wire-encoder.js';

describe('sip/wire-encoder', () => {
  it('encodes the head as UTF-8 and copies the body after it', () => {
    const body = Buffer.from('<note>Grippe — zu Hause</note>', 'utf8');
    const bytes = encodeMessage('NOTIFY sip:w@127.0.0.1 SIP/2.0\r\nSubject: Café\r\n\r\n', body);
    expect(bytes.toString('utf8')).to.equal('NOTIFY sip:w@127.0.0.1 SIP/2.0\r\nSubject: Café\r\n\r\n<note>Grippe — zu Hause</note>');
  });

  it('never reuses the bytes of an earlier message (retransmissions and deferred sends keep them)', () => {
    const first = encodeMessage('first message\r\n\r\n');
    const later = Array.from({ length: 2000 }, (_, i) => encodeMessage(`message ${i} ${'x'.repeat(200)}\r\n\r\n`));
    expect(first.toString()).to.equal('first message\r\n\r\n');
    expect(later[1999]!.toString()).to.equal(`message 1999 ${'x'.repeat(200)}\r\n\r\n`);
  });

  it('gives a message too large for the shared slabs a buffer of its own', () => {
    const body = Buffer.alloc(100_000, 'a');
    const bytes = encodeMessage('HEAD\r\n\r\n', body);
    expect(bytes.length).to.equal(100_008);
    expect(bytes.subarray(0, 8).toString()).to.equal('HEAD\r\n\r\n');
    expect(bytes[100_007]).to.equal(0x61);
  });
});
