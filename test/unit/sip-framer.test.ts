import { expect } from 'chai';
import { StreamFramer } from '../../lib/sip/framer.js';
import { capture } from './sip-captures.js';

interface Recorded { messages: string[]; keepAlives: number; errors: string[]; declared: number[] }

/** A framer whose events are recorded; message bytes are decoded as UTF-8 for comparison. */
function recordingFramer(maxMessageSize = 65535): { framer: StreamFramer; seen: Recorded } {
  const seen: Recorded = { messages: [], keepAlives: 0, errors: [], declared: [] };
  const framer = new StreamFramer(maxMessageSize, {
    message: (raw, declaredBytes) => {
      seen.messages.push(raw.toString('utf8'));
      if (declaredBytes !== undefined) seen.declared.push(declaredBytes);
    },
    keepAlive: () => seen.keepAlives++,
    error: (reason) => seen.errors.push(reason),
  });
  return { framer, seen };
}

const withBody = (body: string): string =>
  `NOTIFY sip:a@h SIP/2.0\r\nContent-Type: text/plain\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('sip/framer StreamFramer', () => {
  const baresip = capture('baresip');
  const linphonec = capture('linphonec');
  const notify = withBody('Grüße\r\n\r\nsecond paragraph');

  it('emits several messages from one chunk, skipping CRLFs between them', () => {
    const { framer, seen } = recordingFramer();
    framer.push(Buffer.from(`\r\n${baresip}${notify}\r\n${linphonec}`));
    expect(seen).to.deep.equal({ messages: [baresip, notify, linphonec], keepAlives: 0, errors: [], declared: [] });
  });

  it('frames the same whatever the chunk boundaries, even inside CRLFCRLF', () => {
    const stream = Buffer.from(`${baresip}\r\n\r\n${notify}${linphonec}\r\n\r\n\r\n\r\n${notify}`);
    for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
      const { framer, seen } = recordingFramer();
      for (let offset = 0; offset < stream.length; offset += chunkSize) {
        framer.push(stream.subarray(offset, offset + chunkSize));
      }
      expect(seen, `chunks of ${chunkSize}`).to.deep.equal({
        messages: [baresip, notify, linphonec, notify], keepAlives: 3, errors: [], declared: [],
      });
    }
  });

  it('splits at every single byte position', () => {
    const stream = Buffer.from(`${notify}${baresip}`);
    for (let split = 1; split < stream.length; split++) {
      const { framer, seen } = recordingFramer();
      framer.push(stream.subarray(0, split));
      framer.push(stream.subarray(split));
      expect(seen.messages, `split at ${split}`).to.deep.equal([notify, baresip]);
    }
  });

  it('counts each CRLFCRLF ping as one keep-alive (RFC 5626 §3.5.1)', () => {
    const { framer, seen } = recordingFramer();
    framer.push(Buffer.from('\r\n\r\n'));
    expect(seen.keepAlives).to.equal(1);
    framer.push(Buffer.from('\r\n\r\n\r\n'));
    expect(seen.keepAlives).to.equal(2);
    framer.push(Buffer.from('\r\n'));
    expect(seen.keepAlives).to.equal(3);
    framer.push(Buffer.from('\r\n'));
    framer.push(Buffer.from(baresip));
    expect(seen).to.deep.equal({ messages: [baresip], keepAlives: 3, errors: [], declared: [] });
  });

  it('assumes no body when Content-Length is missing', () => {
    const { framer, seen } = recordingFramer();
    framer.push(Buffer.from(`${linphonec}${baresip}`));
    expect(seen.messages).to.deep.equal([linphonec, baresip]);
  });

  it('waits for the whole body', () => {
    const { framer, seen } = recordingFramer();
    const bytes = Buffer.from(notify);
    framer.push(bytes.subarray(0, bytes.length - 1));
    expect(seen.messages).to.deep.equal([]);
    framer.push(bytes.subarray(bytes.length - 1));
    expect(seen.messages).to.deep.equal([notify]);
  });

  it('stops with "Message too large" when the header section grows past the limit', () => {
    const { framer, seen } = recordingFramer(100);
    framer.push(Buffer.from(`SUBSCRIBE sip:a@h SIP/2.0\r\nSubject: ${'x'.repeat(60)}`));
    expect(seen.errors).to.deep.equal([]);
    framer.push(Buffer.from('y'.repeat(10)));
    expect(seen.errors).to.deep.equal(['Message too large']);
    framer.push(Buffer.from(`\r\n\r\n${baresip}`));
    expect(seen).to.deep.equal({ messages: [], keepAlives: 0, errors: ['Message too large'], declared: [] });
  });

  it('hands over only the head of a message whose body would pass the limit, with its size, and skips the body', () => {
    const message = withBody('x'.repeat(40));
    const head = message.slice(0, message.indexOf('\r\n\r\n') + 4);
    const fits = recordingFramer(Buffer.byteLength(message));
    fits.framer.push(Buffer.from(message));
    expect(fits.seen.messages).to.deep.equal([message]);
    expect(fits.seen.declared).to.deep.equal([]);
    const tooLarge = recordingFramer(Buffer.byteLength(message) - 1);
    // The body arrives in pieces; none of it is held, and the next message is framed as usual.
    tooLarge.framer.push(Buffer.from(message.slice(0, head.length + 10)));
    expect(tooLarge.framer.bufferedBytes).to.equal(0);
    tooLarge.framer.push(Buffer.from(message.slice(head.length + 10) + notify));
    expect(tooLarge.seen).to.deep.equal({ messages: [head, notify], keepAlives: 0, errors: [], declared: [Buffer.byteLength(message)] });
  });

  it('hands over a message with an unusable Content-Length, then stops', () => {
    const { framer, seen } = recordingFramer();
    const broken = 'NOTIFY sip:a@h SIP/2.0\r\nContent-Length: lots\r\n\r\n';
    framer.push(Buffer.from(`${broken}body${baresip}`));
    expect(seen).to.deep.equal({ messages: [broken], keepAlives: 0, errors: ['Bad Content-Length'], declared: [] });
  });
});
