import { expect } from 'chai';
import { ERRORS, errorMessage, PresencedError, sipAnswer } from '../../lib/errors.js';
import { PresenceError } from '../../lib/presence/state.js';

describe('errors: the one registry', () => {
  const definitions = Object.entries(ERRORS);

  it('names every error by its own code', () => {
    for (const [key, definition] of definitions) expect(definition.code, key).to.equal(key);
  });

  it('gives every error a SIP error status, an HTTP error status and a message with at most one %s', () => {
    for (const [key, definition] of definitions) {
      expect(definition.sip, key).to.be.within(400, 699);
      expect(definition.http, key).to.be.within(400, 599);
      expect(definition.message.split('%s').length, key).to.be.at.most(2);
      // A reason phrase is one line of text (RFC 3261 §25.1 Reason-Phrase).
      expect(definition.message, key).to.not.match(/[\r\n]/);
    }
  });

  it('fills the detail into the SIP reason phrase and the message', () => {
    expect(sipAnswer(ERRORS.MISSING_HEADER, 'From')).to.deep.equal({ status: 400, reason: 'Missing From header', code: 'MISSING_HEADER' });
    expect(sipAnswer(ERRORS.BAD_EVENT)).to.deep.equal({ status: 489, reason: 'Bad Event', code: 'BAD_EVENT' });
    expect(errorMessage(ERRORS.INVALID_PROVIDER, 'CustomPresence:x')).to.equal('Invalid provider CustomPresence:x or provider in invalid state');
  });

  it('carries the code on thrown errors, presence input errors included', () => {
    const thrown = new PresencedError(ERRORS.NO_HINT);
    expect(thrown.code).to.equal('NO_HINT');
    expect(thrown.sip).to.deep.equal({ status: 404, reason: 'Not Found (no hint for this extension)', code: 'NO_HINT' });
    const input = new PresenceError('unknown state "sleepy"');
    expect(input).to.be.instanceOf(PresencedError);
    expect(input.code).to.equal('INVALID_VALUE');
    expect(input.message).to.equal('unknown state "sleepy"');
  });
});
