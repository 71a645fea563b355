import { expect } from 'chai';
import {
  NOT_SET, PRESENCE_STATES, PresenceError, customPresenceName, parsePresenceValue, parseStateName, sameState,
  stripControlCharacters, type PresenceState,
} from '../../lib/presence/state.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('presence/state', () => {
  describe('NOT_SET', () => {
    it('is a frozen not_set state with empty subtype and message', () => {
      expect(NOT_SET).to.deep.equal({ state: 'not_set', subtype: '', message: '' });
      expect(Object.isFrozen(NOT_SET)).to.equal(true);
    });
  });

  describe('parseStateName', () => {
    it('accepts every state in any case', () => {
      for (const state of PRESENCE_STATES) {
        expect(parseStateName(state)).to.equal(state);
        expect(parseStateName(state.toUpperCase())).to.equal(state);
      }
      expect(parseStateName('Away')).to.equal('away');
    });

    it('rejects unknown names, padding and the empty string', () => {
      for (const text of ['awy', ' away', 'away ', '', 'busy', 'notset']) {
        expect(parseStateName(text), text).to.equal(undefined);
      }
    });
  });

  describe('parsePresenceValue', () => {
    // The valid inputs of Asterisk's test_valid_parse_data (func_presencestate.c).
    const VALID: Array<[string, PresenceState, boolean]> = [
      ['away', { state: 'away', subtype: '', message: '' }, false],
      ['not_set', { state: 'not_set', subtype: '', message: '' }, false],
      ['unavailable', { state: 'unavailable', subtype: '', message: '' }, false],
      ['available', { state: 'available', subtype: '', message: '' }, false],
      ['xa', { state: 'xa', subtype: '', message: '' }, false],
      ['chat', { state: 'chat', subtype: '', message: '' }, false],
      ['dnd', { state: 'dnd', subtype: '', message: '' }, false],
      ['away,down the hall', { state: 'away', subtype: 'down the hall', message: '' }, false],
      ['away,down the hall,Quarterly financial meeting', { state: 'away', subtype: 'down the hall', message: 'Quarterly financial meeting' }, false],
      ['away,,Quarterly financial meeting', { state: 'away', subtype: '', message: 'Quarterly financial meeting' }, false],
      ['away,,,e', { state: 'away', subtype: '', message: '' }, true],
      [`away,${b64('down the hall')},,e`, { state: 'away', subtype: 'down the hall', message: '' }, true],
      [`away,${b64('down the hall')},${b64('Quarterly financial meeting')},e`, { state: 'away', subtype: 'down the hall', message: 'Quarterly financial meeting' }, true],
      [`away,,${b64('Quarterly financial meeting')},e`, { state: 'away', subtype: '', message: 'Quarterly financial meeting' }, true],
    ];
    for (const [value, state, base64] of VALID) {
      it(`parses '${value}'`, () => {
        expect(parsePresenceValue(value)).to.deep.equal({ state, stateText: value.split(',')[0], base64 });
      });
    }

    it('keeps the state part as typed', () => {
      const parsed = parsePresenceValue('UNAVAILABLE,Out,Gone fishing');
      expect(parsed.stateText).to.equal('UNAVAILABLE');
      expect(parsed.state).to.deep.equal({ state: 'unavailable', subtype: 'Out', message: 'Gone fishing' });
    });

    it('ignores what follows a fourth comma, as Asterisk', () => {
      expect(parsePresenceValue('away,,,,e')).to.deep.equal({ state: { state: 'away', subtype: '', message: '' }, stateText: 'away', base64: false });
    });

    it('keeps spaces inside subtype and message', () => {
      expect(parsePresenceValue('dnd, upstairs , eating lunch ').state).to.deep.equal({ state: 'dnd', subtype: ' upstairs ', message: ' eating lunch ' });
    });

    it('decodes UTF-8 base64, with or without padding', () => {
      expect(parsePresenceValue(`xa,${b64('congé')},${b64('中文 🎉')},e`).state).to.deep.equal({ state: 'xa', subtype: 'congé', message: '中文 🎉' });
      expect(parsePresenceValue('xa,YQ,YWI,e').state).to.deep.equal({ state: 'xa', subtype: 'a', message: 'ab' });
    });

    it('removes control characters from subtype and message, after decoding', () => {
      expect(parsePresenceValue('away,a\tb,line\r\nbreak\u007f\u001b[31m').state)
        .to.deep.equal({ state: 'away', subtype: 'ab', message: 'linebreak[31m' });
      expect(parsePresenceValue(`away,${b64('x\u0000y')},${b64('bell\u0007')},e`).state)
        .to.deep.equal({ state: 'away', subtype: 'xy', message: 'bell' });
    });

    const INVALID: Array<[string, string]> = [
      // The invalid inputs of Asterisk's test_invalid_parse_data.
      ['', 'Missing presence state (expected one of: not_set, unavailable, available, away, xa, chat, dnd)'],
      ['bored', "Unknown presence state 'bored' (expected one of: not_set, unavailable, available, away, xa, chat, dnd)"],
      ['away,,,i', "Invalid options 'i' (only 'e' is supported)"],
      // Stricter than Asterisk.
      ['awy,at home', "Unknown presence state 'awy' (expected one of: not_set, unavailable, available, away, xa, chat, dnd)"],
      [',sub,msg', 'Missing presence state (expected one of: not_set, unavailable, available, away, xa, chat, dnd)'],
      ['away,,,ex', "Invalid options 'ex' (only 'e' is supported)"],
      ['away,a,b,E', "Invalid options 'E' (only 'e' is supported)"],
      ['away,not base64!,,e', "Invalid base64 in subtype 'not base64!'"],
      ['away,,YWJjZ,e', "Invalid base64 in message 'YWJjZ'"],
      ['away,,YQ=,e', "Invalid base64 in message 'YQ='"],
      ['away,/w==,,e', "The base64 subtype '/w==' does not decode to UTF-8 text"],
    ];
    for (const [value, message] of INVALID) {
      it(`rejects '${value}'`, () => {
        expect(() => parsePresenceValue(value)).to.throw(PresenceError, message);
      });
    }

    it('reports errors with exactly the expected message', () => {
      try {
        parsePresenceValue('awy');
        expect.fail('parsePresenceValue accepted awy');
      } catch (error) {
        expect(error).to.be.instanceOf(PresenceError);
        expect((error as Error).message).to.equal("Unknown presence state 'awy' (expected one of: not_set, unavailable, available, away, xa, chat, dnd)");
      }
    });
  });

  describe('customPresenceName', () => {
    it('strips the prefix, in any case', () => {
      expect(customPresenceName('CustomPresence:6002')).to.equal('6002');
      expect(customPresenceName('custompresence:lamp1')).to.equal('lamp1');
      expect(customPresenceName('CUSTOMPRESENCE:a:b')).to.equal('a:b');
    });

    it("rejects other providers with Asterisk's CLI message", () => {
      for (const entity of ['SIP/6002', 'Custom:6002', 'CustomPresence', '6002', '']) {
        expect(() => customPresenceName(entity), entity)
          .to.throw(PresenceError, "The presencestate command can only be used to set 'CustomPresence:' presence state!");
      }
    });

    it('rejects an empty name', () => {
      expect(() => customPresenceName('CustomPresence:')).to.throw(PresenceError, "Missing custom presence name after 'CustomPresence:'");
    });
  });

  describe('sameState', () => {
    const base: PresenceState = { state: 'away', subtype: 'home', message: 'Lunch' };

    it('is true for equal fields', () => {
      expect(sameState(base, { ...base })).to.equal(true);
      expect(sameState(NOT_SET, { state: 'not_set', subtype: '', message: '' })).to.equal(true);
    });

    it('is false when any field differs', () => {
      expect(sameState(base, { ...base, state: 'xa' })).to.equal(false);
      expect(sameState(base, { ...base, subtype: 'work' })).to.equal(false);
      expect(sameState(base, { ...base, message: 'lunch' })).to.equal(false);
    });
  });

  describe('stripControlCharacters', () => {
    it('removes C0 controls and DEL and keeps everything else', () => {
      expect(stripControlCharacters('a\u0000b\u001fc\u007fd\u0080é中🎉 ~')).to.equal('abcd\u0080é中🎉 ~');
    });
  });
});
