import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { authenticate } from '../../lib/control/ami/ami-auth.js';
import { parseAmiConfig } from '../../lib/control/ami/ami-config.js';
import { LoginThrottle } from '../../lib/control/ami/ami-login-throttle.js';
import { AmiMessage } from '../../lib/control/ami/ami-protocol.js';

const { users } = parseAmiConfig([
  '[Admin]', 'secret = s3cret', 'deny = 0.0.0.0/0', 'permit = 127.0.0.1',
  '[nosecret]', 'read = call',
].join('\n'));

function login(...lines: string[]): AmiMessage {
  return new AmiMessage(['Action: Login', ...lines]);
}

describe('ami/auth', () => {
  describe('authenticate', () => {
    it('accepts the right secret, the user name in any case', () => {
      const result = authenticate(users, login('Username: admin', 'Secret: s3cret'), '127.0.0.1', undefined);
      expect(result).to.have.property('user').that.has.property('name', 'Admin');
    });

    it('refuses a wrong or missing secret, an unknown user and a missing Username', () => {
      expect(authenticate(users, login('Username: Admin', 'Secret: s3cret '), '127.0.0.1', undefined)).to.deep.equal({ failure: 'wrong secret' });
      expect(authenticate(users, login('Username: Admin'), '127.0.0.1', undefined)).to.deep.equal({ failure: 'wrong secret' });
      expect(authenticate(users, login('Username: eve', 'Secret: s3cret'), '127.0.0.1', undefined)).to.deep.equal({ failure: 'no such user' });
      expect(authenticate(users, login('Secret: s3cret'), '127.0.0.1', undefined)).to.deep.equal({ failure: 'no Username' });
    });

    it('refuses an address the user\'s permit/deny rules exclude, even with the right secret', () => {
      expect(authenticate(users, login('Username: admin', 'Secret: s3cret'), '192.0.2.7', undefined))
        .to.deep.equal({ failure: 'address not permitted for this user' });
    });

    it('never lets in a user without a secret', () => {
      expect(authenticate(users, login('Username: nosecret', 'Secret: '), '127.0.0.1', undefined)).to.deep.equal({ failure: 'the user has no secret' });
    });

    it('accepts the MD5 of challenge and secret (in either hex case) after a Challenge, and nothing else', () => {
      const key = createHash('md5').update('1234567890s3cret').digest('hex');
      const md5 = (given: string, challenge: string | undefined): unknown =>
        authenticate(users, login('Username: admin', 'AuthType: MD5', `Key: ${given}`), '127.0.0.1', challenge);
      expect(md5(key, '1234567890')).to.have.property('user');
      expect(md5(key.toUpperCase(), '1234567890')).to.have.property('user');
      expect(md5(key, '1234567891')).to.deep.equal({ failure: 'wrong MD5 key' });
      expect(md5(key, undefined)).to.deep.equal({ failure: 'MD5 login without a Challenge' });
    });
  });

  describe('LoginThrottle', () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 1000, forgetAfterMs: 60_000, maxAddresses: 3 };

    const delay = (throttle: LoginThrottle, address: string, now: number): number => throttle.attempt(address, now).delayMs;

    it('answers a first attempt at once, then doubles the delay with each recent attempt that did not succeed (D2)', () => {
      const throttle = new LoginThrottle(settings);
      expect([1, 2, 3, 4, 5, 6, 7].map((i) => delay(throttle, '192.0.2.1', i))).to.deep.equal([0, 100, 200, 400, 800, 1000, 1000]);
      expect(throttle.attempt('192.0.2.1', 8).recent).to.equal(7);
      expect(delay(throttle, '192.0.2.2', 9)).to.equal(0);
    });

    it('forgets an address after a success or a quiet spell', () => {
      const throttle = new LoginThrottle(settings);
      delay(throttle, '192.0.2.1', 0);
      delay(throttle, '192.0.2.1', 1);
      throttle.succeeded('192.0.2.1');
      expect(delay(throttle, '192.0.2.1', 2)).to.equal(0);
      expect(delay(throttle, '192.0.2.1', 2 + 60_001)).to.equal(0);
    });

    it('remembers a bounded number of addresses, dropping the quietest', () => {
      const throttle = new LoginThrottle(settings);
      for (const [i, address] of ['a', 'b', 'c', 'd'].entries()) delay(throttle, address, i);
      expect(delay(throttle, 'a', 10)).to.equal(0);
      expect(delay(throttle, 'd', 11)).to.equal(100);
    });
  });
});
