import { expect } from 'chai';
import { parsePresenceRead, parsePresenceWrite, readPresenceField } from '../../lib/control/ami/ami-variables.js';
import type { PresenceState } from '../../lib/presence/state.js';

const state: PresenceState = { state: 'away', subtype: 'at home', message: 'Sick with the flu — back Monday' };

describe('ami/variables', () => {
  describe('PRESENCE_STATE reads', () => {
    it('reads the field named, value when none is named', () => {
      expect(parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,subtype)')).to.deep.equal({ provider: 'CustomPresence:6002', field: 'subtype', base64: false });
      expect(parsePresenceRead('PRESENCE_STATE(CustomPresence:6002)')).to.deep.equal({ provider: 'CustomPresence:6002', field: 'value', base64: false });
      expect(parsePresenceRead('presence_state( CustomPresence:6002 , MESSAGE , e )')).to.deep.equal({ provider: 'CustomPresence:6002', field: 'message', base64: true });
    });

    it('returns the state, or subtype and message as they are or base64-encoded', () => {
      expect(readPresenceField(state, parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,value,e)'))).to.equal('away');
      expect(readPresenceField(state, parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,subtype)'))).to.equal('at home');
      const encoded = readPresenceField(state, parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,message,e)'));
      expect(Buffer.from(encoded, 'base64').toString('utf8')).to.equal(state.message);
      expect(readPresenceField({ ...state, subtype: '' }, parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,subtype,e)'))).to.equal('');
    });

    it('refuses other variables and malformed calls, saying why', () => {
      expect(() => parsePresenceRead('EXTEN')).to.throw(/Unsupported variable 'EXTEN'/);
      expect(() => parsePresenceRead('DEVICE_STATE(PJSIP/6002)')).to.throw(/Unsupported variable/);
      expect(() => parsePresenceRead('PRESENCE_STATE(CustomPresence:6002')).to.throw(/Unsupported variable/);
      expect(() => parsePresenceRead('PRESENCE_STATE()')).to.throw(/needs a presence provider/);
      expect(() => parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,colour)')).to.throw(/Unknown PRESENCE_STATE field 'colour'/);
      expect(() => parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,value,x)')).to.throw(/Invalid PRESENCE_STATE options 'x'/);
      expect(() => parsePresenceRead('PRESENCE_STATE(CustomPresence:6002,value,e,more)')).to.throw(/Invalid PRESENCE_STATE options 'e,more'/);
    });
  });

  describe('PRESENCE_STATE writes', () => {
    it('names the provider to set', () => {
      expect(parsePresenceWrite('PRESENCE_STATE(CustomPresence:6002)')).to.equal('CustomPresence:6002');
    });

    it('refuses a field, and anything that is not PRESENCE_STATE', () => {
      expect(() => parsePresenceWrite('PRESENCE_STATE(CustomPresence:6002,value)')).to.throw(/only the provider/);
      expect(() => parsePresenceWrite('GLOBALVAR')).to.throw(/Unsupported variable 'GLOBALVAR'/);
    });
  });
});
