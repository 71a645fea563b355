import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PidfInput } from '../../lib/presence/pidf.js';
import { PRESENCE_STATES, type PresenceState, type PresenceStateName } from '../../lib/presence/state.js';
import { buildXpidf, xpidfStatus, type XpidfStatus } from '../../lib/presence/xpidf.js';

const ENTITY = 'sip:6002@example.com';

function presenceOnly(state: PresenceStateName, message = ''): PidfInput {
  return { entity: ENTITY, tupleId: '6002', hasDevice: false, presence: { state, subtype: '', message }, digium: false };
}

/** Golden body name → input; the bodies live in fixtures/xpidf/<name>.xml (schema-checked by bodies.test.ts). */
const XPIDF_GOLDEN: Record<string, PidfInput> = {
  ...Object.fromEntries(PRESENCE_STATES.map((state) => [`presence-${state}`, presenceOnly(state)])),
  'device-away': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: { state: 'away', subtype: 'at home', message: 'Sick' }, digium: true },
  'hostile': { entity: 'sip:a&"b"@example.com', tupleId: '<6002>', hasDevice: false, presence: { state: 'dnd', subtype: '', message: '<x>' }, digium: false },
};

/** docs/PIDF.md's XPIDF column, written out independently of the code under test. */
const PRESENCE_ONLY_STATUS: Record<PresenceStateName, XpidfStatus> = {
  not_set: { status: 'closed', substatus: 'offline' },
  unavailable: { status: 'closed', substatus: 'offline' },
  available: { status: 'open', substatus: 'online' },
  chat: { status: 'open', substatus: 'online' },
  away: { status: 'inactive', substatus: 'away' },
  xa: { status: 'inactive', substatus: 'away' },
  dnd: { status: 'inuse', substatus: 'busy' },
};

function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'xpidf', `${name}.xml`), 'utf8');
}

describe('presence/xpidf', () => {
  describe('xpidfStatus', () => {
    for (const state of PRESENCE_STATES) {
      const presence: PresenceState = { state, subtype: '', message: 'a message' };
      it(`presence-only ${state}: ${PRESENCE_ONLY_STATUS[state].status} / ${PRESENCE_ONLY_STATUS[state].substatus}`, () => {
        expect(xpidfStatus({ hasDevice: false, presence })).to.deep.equal(PRESENCE_ONLY_STATUS[state]);
      });
    }

    it('a device hint is open unless the presence state names an activity', () => {
      const device = (state: PresenceStateName) => xpidfStatus({ hasDevice: true, presence: { state, subtype: '', message: '' } });
      expect(device('not_set')).to.deep.equal({ status: 'open', substatus: 'online' });
      expect(device('unavailable')).to.deep.equal({ status: 'open', substatus: 'online' });
      expect(device('away')).to.deep.equal({ status: 'inactive', substatus: 'away' });
      expect(device('dnd')).to.deep.equal({ status: 'inuse', substatus: 'busy' });
    });
  });

  describe('buildXpidf golden bodies (fixtures/xpidf)', () => {
    for (const [name, input] of Object.entries(XPIDF_GOLDEN)) {
      it(`${name} matches the golden file`, () => {
        expect(buildXpidf(input)).to.equal(golden(name));
      });
    }
  });

  describe('buildXpidf', () => {
    it("has Asterisk's document: DOCTYPE, presentity, the extension's atom, one address", () => {
      expect(buildXpidf(presenceOnly('available')).split('\n')).to.deep.equal([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE presence PUBLIC "-//IETF//DTD RFCxxxx XPIDF 1.0//EN" "xpidf.dtd">',
        '<presence>',
        '<presentity uri="sip:6002@example.com;method=SUBSCRIBE" />',
        '<atom id="6002">',
        '<address uri="sip:6002@example.com;user=ip" priority="0.800000">',
        '<status status="open" />',
        '<msnsubstatus substatus="online" />',
        '</address>',
        '</atom>',
        '</presence>',
        '',
      ]);
    });

    it('escapes the entity and the atom id, and ignores the message and the digium flag', () => {
      const body = buildXpidf(XPIDF_GOLDEN['hostile']!);
      expect(body).to.include('<presentity uri="sip:a&amp;&quot;b&quot;@example.com;method=SUBSCRIBE" />');
      expect(body).to.include('<atom id="&lt;6002&gt;">');
      expect(body).not.to.include('x&gt;');
      expect(buildXpidf({ ...XPIDF_GOLDEN['hostile']!, digium: true })).to.equal(body);
    });
  });
});
