import { expect } from 'chai';
import { detach, SharedPool } from '../../lib/util/strings.js';

describe('util/strings', () => {
  it('detach returns an equal string', () => {
    const message = `SUBSCRIBE sip:6002@example.com SIP/2.0\r\nCall-ID: ${'x'.repeat(40)}@host\r\n`;
    const callId = message.slice(message.indexOf('Call-ID: ') + 9, message.lastIndexOf('\r\n'));
    expect(detach(callId)).to.equal(`${'x'.repeat(40)}@host`);
  });

  describe('SharedPool', () => {
    it('hands out one instance per key, built once', () => {
      const pool = new SharedPool<{ key: string }>();
      let built = 0;
      const make = (key: string) => (built++, { key });
      const first = pool.get('UDP 10.0.0.7 5060', make);
      expect(pool.get('UDP 10.0.0.7 5060', make)).to.equal(first);
      expect(pool.get('UDP 10.0.0.8 5060', make)).to.not.equal(first);
      expect(built).to.equal(2);
      expect(first.key).to.equal('UDP 10.0.0.7 5060');
    });

    it('starts over when full, and what it handed out stays valid', () => {
      const pool = new SharedPool<{ key: string }>(2);
      const make = (key: string) => ({ key });
      const a = pool.get('a', make);
      pool.get('b', make);
      pool.get('c', make);
      const again = pool.get('a', make);
      expect(again).to.not.equal(a);
      expect(a).to.deep.equal({ key: 'a' });
      expect(pool.get('c', make)).to.deep.equal({ key: 'c' });
    });
  });
});
