import { expect } from 'chai';
import { epochMsToExpiry, EXPIRY_CLOCK, expiryIn, expiryToEpochMs, msSinceWrapped, WRAP_MS, wrappedNowMs } from '../../lib/util/clock.js';

/** What V8 keeps inside an object instead of boxing: a 31-bit integer. */
function isSmallInteger(value: number): boolean {
  return Number.isInteger(value) && value >= -(2 ** 30) && value < 2 ** 30;
}

describe('util/clock', () => {
  describe('the expiry clock', () => {
    it('gives small integers', () => {
      expect(isSmallInteger(EXPIRY_CLOCK.now())).to.equal(true);
      expect(isSmallInteger(expiryIn(3600))).to.equal(true);
      expect(isSmallInteger(epochMsToExpiry(Date.now() + 86_400_000))).to.equal(true);
    });

    it('rounds a deadline up by less than a tenth of a second, never down', () => {
      const before = Date.now();
      const deadline = expiryToEpochMs(expiryIn(600));
      const after = Date.now();
      expect(deadline).to.be.at.least(before + 600_000);
      expect(deadline).to.be.below(after + 600_000 + 100);
    });

    it('converts to wall-clock milliseconds and back', () => {
      const time = expiryIn(42);
      expect(epochMsToExpiry(expiryToEpochMs(time))).to.equal(time);
      expect(EXPIRY_CLOCK.now()).to.be.at.most(epochMsToExpiry(Date.now()));
    });
  });

  describe('the wrapping millisecond clock', () => {
    it('is a small integer', () => {
      expect(isSmallInteger(wrappedNowMs())).to.equal(true);
    });

    it('measures intervals across the wrap', () => {
      expect(msSinceWrapped(WRAP_MS - 10, 5)).to.equal(15);
      expect(msSinceWrapped(100, 350)).to.equal(250);
      expect(msSinceWrapped(7, 7)).to.equal(0);
    });
  });
});
