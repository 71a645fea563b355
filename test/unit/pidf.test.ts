import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  activityOf, basicAndNote, buildPidf, DIGIUM_MODES, isDigiumUserAgent, wantsDigiumTuple, type DigiumMode, type PidfInput,
} from '../../lib/presence/pidf.js';
import { parsePidf } from '../../lib/presence/pidf-reader.js';
import type { ExtensionState } from '../../lib/devices/device-state.js';
import { PRESENCE_STATES, stripControlCharacters, type PresenceState, type PresenceStateName } from '../../lib/presence/state.js';

const ENTITY = 'sip:6002@example.com';
const AWAY_SICK: PresenceState = { state: 'away', subtype: 'at home', message: 'Sick with the flu' };

function presenceOnly(presence: PresenceState): PidfInput {
  return { entity: ENTITY, tupleId: '6002', hasDevice: false, presence, digium: true };
}

/** Golden body name → input; the bodies live in fixtures/pidf/<name>.xml (schema-checked by bodies.test.ts). */
const PIDF_GOLDEN: Record<string, PidfInput> = {
  'device-digium': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: AWAY_SICK, digium: true },
  'device-not-set': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: { state: 'not_set', subtype: '', message: '' }, digium: true },
  'non-digium-ua': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: AWAY_SICK, digium: false },
  'no-subtype': presenceOnly({ state: 'dnd', subtype: '', message: 'In a meeting' }),
  'hostile': presenceOnly({ state: 'away', subtype: `"q" & <x>`, message: `<b>&"Tom's"</b>\u0007` }),
  'device-on-the-phone': { entity: ENTITY, tupleId: '6002', hasDevice: true, device: 'InUse', presence: { state: 'available', subtype: '', message: 'At my desk' }, digium: true },
  'device-ringing-dnd': { entity: ENTITY, tupleId: '6002', hasDevice: true, device: 'Ringing', presence: { state: 'dnd', subtype: '', message: '' }, digium: false },
  'device-busy': { entity: ENTITY, tupleId: '6002', hasDevice: true, device: 'Busy', presence: { state: 'not_set', subtype: '', message: '' }, digium: false },
  'unicode': { entity: 'sip:josé@example.com', tupleId: '6002', hasDevice: true, presence: { state: 'xa', subtype: 'congé', message: 'Café 中文 🎉' }, digium: true },
  ...Object.fromEntries(PRESENCE_STATES.map((state) => [`presence-${state}`, presenceOnly({ state, subtype: '', message: '' })])),
};

/** The activity table of docs/PIDF.md, written out independently of the code under test. */
const ACTIVITIES: Record<PresenceStateName, string[]> = {
  not_set: [], unavailable: [], available: [], chat: [], away: ['away'], xa: ['away'], dnd: ['busy'],
};

function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'pidf', `${name}.xml`), 'utf8');
}

describe('presence/pidf', () => {
  describe('basicAndNote', () => {
    const LABELS = {
      not_set: 'Offline', unavailable: 'Unavailable', available: 'Available', chat: 'Available for chat',
      away: 'Away', xa: 'Extended away', dnd: 'Do not disturb',
    } as const;

    for (const state of PRESENCE_STATES) {
      it(`presence-only ${state}: basic follows the state, note is the label`, () => {
        const closed = state === 'not_set' || state === 'unavailable';
        expect(basicAndNote(false, { state, subtype: 'x', message: '' }))
          .to.deep.equal({ basic: closed ? 'closed' : 'open', note: LABELS[state] });
      });

      it(`device hint with presence ${state}: open and "Ready"`, () => {
        expect(basicAndNote(true, { state, subtype: '', message: '' })).to.deep.equal({ basic: 'open', note: 'Ready' });
      });
    }

    it('the presence message wins over the label and over "Ready"', () => {
      expect(basicAndNote(false, { state: 'dnd', subtype: '', message: 'In a meeting' }).note).to.equal('In a meeting');
      expect(basicAndNote(true, { state: 'away', subtype: '', message: 'Lunch' })).to.deep.equal({ basic: 'open', note: 'Lunch' });
    });
  });

  describe('device × presence (docs/PIDF.md, "Presence follows the device")', () => {
    // [device, presence, message] → [basic, activity, note], written out from the table in docs/PIDF.md.
    const TABLE: Array<[ExtensionState, PresenceStateName, string, 'open' | 'closed', string | undefined, string]> = [
      ['Idle', 'available', '', 'open', undefined, 'Ready'],
      ['Idle', 'away', 'Lunch', 'open', 'away', 'Lunch'],
      ['InUse', 'not_set', '', 'open', 'on-the-phone', 'On the phone'],
      ['InUse', 'available', 'At my desk', 'open', 'on-the-phone', 'On the phone'],
      ['InUse', 'chat', '', 'open', 'on-the-phone', 'On the phone'],
      ['InUse', 'away', '', 'open', 'away', 'On the phone'],
      ['InUse', 'xa', 'Holiday', 'open', 'away', 'Holiday'],
      ['InUse', 'dnd', '', 'open', 'busy', 'On the phone'],
      ['InUse', 'unavailable', '', 'open', undefined, 'On the phone'],
      ['Busy', 'available', '', 'closed', 'on-the-phone', 'On the phone'],
      ['Ringing', 'not_set', '', 'open', 'on-the-phone', 'Ringing'],
      ['InUse&Ringing', 'available', '', 'open', 'on-the-phone', 'Ringing'],
      ['Hold', 'chat', '', 'open', 'on-the-phone', 'On hold'],
      ['Hold', 'dnd', 'Meeting', 'open', 'busy', 'Meeting'],
      ['Unavailable', 'not_set', '', 'closed', undefined, 'Unavailable'],
      ['Unavailable', 'available', 'Back soon', 'closed', undefined, 'Back soon'],
    ];
    for (const [device, state, message, basic, activity, note] of TABLE) {
      it(`${device} × ${state}${message ? ` ("${message}")` : ''} → ${basic}, ${activity ?? 'no activity'}, "${note}"`, () => {
        const presence = { state, subtype: '', message };
        expect(basicAndNote(true, presence, device)).to.deep.equal({ basic, note });
        expect(activityOf({ hasDevice: true, device, presence })).to.equal(activity);
      });
    }

    it('a presence-only hint ignores device state', () => {
      expect(activityOf({ hasDevice: false, device: 'InUse', presence: { state: 'available', subtype: '', message: '' } })).to.equal(undefined);
    });
  });

  describe('buildPidf golden bodies (fixtures/pidf)', () => {
    for (const [name, input] of Object.entries(PIDF_GOLDEN)) {
      describe(name, () => {
        const body = buildPidf(input);

        it('matches the golden file', () => {
          expect(body).to.equal(golden(name));
        });

        it('reads back as the input: tuples, document note, person with its activity and note', () => {
          const { basic, note } = basicAndNote(input.hasDevice, input.presence, input.device);
          const clean = stripControlCharacters;
          const digium = input.digium && input.presence.state !== 'not_set';
          expect(parsePidf(body)).to.deep.equal({
            entity: input.entity,
            note: clean(note),
            tuples: [
              { id: input.tupleId, basic, contact: input.entity },
              ...(digium ? [{
                id: 'digium-presence',
                digium: { type: input.presence.state, subtype: clean(input.presence.subtype), message: clean(input.presence.message) },
              }] : []),
            ],
            persons: [{ id: 'person', activities: name === 'device-on-the-phone' || name === 'device-busy' ? ['on-the-phone'] : ACTIVITIES[input.presence.state], note: clean(note) }],
          });
        });
      });
    }
  });

  describe('buildPidf for real clients', () => {
    it("puts the extension's <basic> first in the document (baresip reads the first one)", () => {
      for (const input of Object.values(PIDF_GOLDEN)) {
        const body = buildPidf(input);
        const { basic } = basicAndNote(input.hasDevice, input.presence, input.device);
        expect(/<basic>([^<]+)<\/basic>/.exec(body)?.[1]).to.equal(basic);
      }
    });

    it('writes the activities as the literal <rpid:away/> and <rpid:busy/> that baresip and pjsip match', () => {
      expect(buildPidf(presenceOnly({ state: 'away', subtype: '', message: '' }))).to.include('<rpid:activities><rpid:away/></rpid:activities>');
      expect(buildPidf(presenceOnly({ state: 'xa', subtype: '', message: '' }))).to.include('<rpid:activities><rpid:away/></rpid:activities>');
      expect(buildPidf(presenceOnly({ state: 'dnd', subtype: '', message: '' }))).to.include('<rpid:activities><rpid:busy/></rpid:activities>');
      expect(buildPidf(presenceOnly({ state: 'available', subtype: '', message: '' }))).not.to.include('rpid:activities>');
    });

    it('keeps PIDF as the default namespace and the dm/rpid prefixes clients look for', () => {
      expect(buildPidf(PIDF_GOLDEN['device-digium']!).split('\n')[1]).to.equal('<presence xmlns="urn:ietf:params:xml:ns:pidf"' +
        ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:6002@example.com">');
    });

    it('puts the digium tuple only when asked and for a state other than not_set', () => {
      const count = (input: PidfInput) => parsePidf(buildPidf(input)).tuples.length;
      expect(count(PIDF_GOLDEN['device-digium']!)).to.equal(2);
      expect(count(PIDF_GOLDEN['non-digium-ua']!)).to.equal(1);
      expect(count(PIDF_GOLDEN['presence-not_set']!)).to.equal(1);
    });

    it('drops control characters and escapes every value', () => {
      const body = buildPidf({
        entity: 'sip:a&b@example.com', tupleId: '<6002>', hasDevice: false, digium: true,
        presence: { state: 'away', subtype: "it's", message: 'tab\there\r\nnew\u007fline' },
      });
      expect(body).to.include('entity="sip:a&amp;b@example.com"');
      expect(body).to.include('<tuple id="&lt;6002&gt;">');
      expect(body).to.include('subtype="it&apos;s"');
      expect(body).to.include('<note>tabherenewline</note>');
      expect(body).to.include('<dm:note>tabherenewline</dm:note>');
      expect(body).not.to.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    });

    it('ends with a newline after </presence>', () => {
      expect(buildPidf(PIDF_GOLDEN['device-digium']!).endsWith('</presence>\n')).to.equal(true);
    });
  });

  describe('isDigiumUserAgent', () => {
    it('matches digium or sangoma in any case', () => {
      expect(isDigiumUserAgent('Digium D65 2_9_16')).to.equal(true);
      expect(isDigiumUserAgent('digium_phone')).to.equal(true);
      expect(isDigiumUserAgent('SANGOMA P330 1.2')).to.equal(true);
    });

    it('rejects other or missing user agents', () => {
      expect(isDigiumUserAgent('Linphone/5.2')).to.equal(false);
      expect(isDigiumUserAgent('')).to.equal(false);
      expect(isDigiumUserAgent(undefined)).to.equal(false);
    });
  });

  describe('wantsDigiumTuple', () => {
    const EXPECTED: Record<DigiumMode, [digium: boolean, other: boolean, missing: boolean]> = {
      auto: [true, false, false],
      always: [true, true, true],
      never: [false, false, false],
    };
    it('knows exactly the three modes', () => {
      expect([...DIGIUM_MODES]).to.deep.equal(Object.keys(EXPECTED));
    });
    for (const mode of DIGIUM_MODES) {
      it(`${mode}: ${EXPECTED[mode].join(' / ')} for a Digium, another and no User-Agent`, () => {
        expect([
          wantsDigiumTuple(mode, 'Digium D65 2_9_16'),
          wantsDigiumTuple(mode, 'Linphone/5.2'),
          wantsDigiumTuple(mode, undefined),
        ]).to.deep.equal(EXPECTED[mode]);
      });
    }
  });
});
