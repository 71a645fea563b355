import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { XMLBuilder } from 'fast-xml-parser';
import { basicAndNote, buildPidf, isDigiumUserAgent, parsePidf, type PidfInput } from '../../lib/presence/pidf.js';
import { PRESENCE_STATES, PresenceError, stripControlCharacters, type PresenceState } from '../../lib/presence/state.js';

const ENTITY = 'sip:6002@example.com';
const AWAY_SICK: PresenceState = { state: 'away', subtype: 'at home', message: 'Sick with the flu' };

function presenceOnly(presence: PresenceState): PidfInput {
  return { entity: ENTITY, tupleId: '6002', hasDevice: false, presence, digium: true };
}

/** Golden body name → input; the bodies live in fixtures/pidf/<name>.xml. */
const GOLDEN: Record<string, PidfInput> = {
  'device-digium': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: AWAY_SICK, digium: true },
  'device-not-set': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: { state: 'not_set', subtype: '', message: '' }, digium: true },
  'non-digium-ua': { entity: ENTITY, tupleId: '6002', hasDevice: true, presence: AWAY_SICK, digium: false },
  'no-subtype': presenceOnly({ state: 'dnd', subtype: '', message: 'In a meeting' }),
  'hostile': presenceOnly({ state: 'away', subtype: `"q" & <x>`, message: `<b>&"Tom's"</b>\u0007` }),
  'unicode': { entity: 'sip:josé@example.com', tupleId: '6002', hasDevice: true, presence: { state: 'xa', subtype: 'congé', message: 'Café 中文 🎉' }, digium: true },
  ...Object.fromEntries(PRESENCE_STATES.map((state) => [`presence-${state}`, presenceOnly({ state, subtype: '', message: '' })])),
};

function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'pidf', `${name}.xml`), 'utf8');
}

/** The same document built by fast-xml-parser's XMLBuilder (one line), to cross-check the template. */
function builtWithXmlBuilder(input: PidfInput): string {
  const { basic, note } = basicAndNote(input.hasDevice, input.presence);
  const clean = stripControlCharacters;
  const tuples: object[] = [{
    '@_id': clean(input.tupleId),
    status: { basic },
    contact: { '@_priority': '1', '#text': clean(input.entity) },
  }];
  if (input.digium && input.presence.state !== 'not_set') {
    const { state, subtype, message } = input.presence;
    tuples.push({
      '@_id': 'digium-presence',
      status: { digium_presence: { '@_type': state, ...(subtype ? { '@_subtype': clean(subtype) } : {}), '#text': clean(message) } },
    });
  }
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' }).build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    presence: { '@_xmlns': 'urn:ietf:params:xml:ns:pidf', '@_entity': clean(input.entity), tuple: tuples, note: clean(note) },
  });
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

  describe('buildPidf golden bodies (fixtures/pidf)', () => {
    const xmllint = spawnSync('xmllint', ['--version']);

    for (const [name, input] of Object.entries(GOLDEN)) {
      describe(name, () => {
        const body = buildPidf(input);

        it('matches the golden file', () => {
          expect(body).to.equal(golden(name));
        });

        it('is the document XMLBuilder builds, one element per line', () => {
          expect(body.replace(/>\n/g, '>')).to.equal(builtWithXmlBuilder(input));
        });

        it('parses back to the input', () => {
          const { basic, note } = basicAndNote(input.hasDevice, input.presence);
          const digium = input.digium && input.presence.state !== 'not_set';
          const clean = stripControlCharacters;
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
          });
        });

        it('is well-formed for xmllint', function () {
          if (xmllint.error) this.skip(); // xmllint is not installed on this machine
          const result = spawnSync('xmllint', ['--noout', '-'], { input: body, encoding: 'utf8' });
          expect(result.stderr).to.equal('');
          expect(result.status).to.equal(0);
        });
      });
    }
  });

  describe('buildPidf', () => {
    it('puts the digium tuple only for digium user agents and a state other than not_set', () => {
      const count = (input: PidfInput) => parsePidf(buildPidf(input)).tuples.length;
      expect(count(GOLDEN['device-digium']!)).to.equal(2);
      expect(count(GOLDEN['non-digium-ua']!)).to.equal(1);
      expect(count(GOLDEN['presence-not_set']!)).to.equal(1);
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
      expect(body).not.to.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    });

    it('ends with a newline after </presence>', () => {
      expect(buildPidf(GOLDEN['device-digium']!).endsWith('</presence>\n')).to.equal(true);
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

  describe('parsePidf', () => {
    it('reads prefixed elements, character references and the first presence note', () => {
      const xml = '<?xml version="1.0"?>\n<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" entity="sip:a@example.com">' +
        '<p:tuple id="t1"><p:status><p:basic>closed</p:basic></p:status><p:note>in tuple</p:note></p:tuple>' +
        '<p:note xml:lang="fr">caf&#233; &#x1F600; &amp;</p:note><p:note>second</p:note></p:presence>';
      expect(parsePidf(xml)).to.deep.equal({
        entity: 'sip:a@example.com',
        note: 'café 😀 &',
        tuples: [{ id: 't1', basic: 'closed' }],
      });
    });

    it('leaves note undefined and tuples empty when absent', () => {
      expect(parsePidf('<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@example.com"/>'))
        .to.deep.equal({ entity: 'sip:a@example.com', tuples: [] });
    });

    it('reads a digium_presence without subtype or message as empty strings', () => {
      const xml = '<presence entity="sip:a@example.com"><tuple id="digium-presence"><status>' +
        '<digium_presence type="dnd"></digium_presence></status></tuple></presence>';
      expect(parsePidf(xml).tuples).to.deep.equal([{ id: 'digium-presence', digium: { type: 'dnd', subtype: '', message: '' } }]);
    });

    const MALFORMED: Record<string, string> = {
      'empty input': '',
      'text': 'open',
      'unclosed element': '<presence entity="sip:a@example.com"><tuple id="x"></presence>',
      'unclosed root': '<presence entity="sip:a@example.com">',
      'no presence root': '<tuple id="x"/>',
      'no entity': '<presence><tuple id="x"/></presence>',
      'DOCTYPE (entity expansion)': '<!DOCTYPE presence [<!ENTITY a "aaaa">]><presence entity="&a;"/>',
      'character reference to a control character': '<presence entity="sip:a@example.com"><note>&#7;</note></presence>',
      'character reference out of range': '<presence entity="sip:a@example.com"><note>&#x110000;</note></presence>',
    };
    for (const [name, xml] of Object.entries(MALFORMED)) {
      it(`throws PresenceError on ${name}`, () => {
        expect(() => parsePidf(xml)).to.throw(PresenceError, /^Malformed PIDF/);
      });
    }
  });
});
