import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_PIDF_BYTES, parsePidf, publishedState, type ParsedPidf } from '../../lib/presence/pidf-reader.js';
import { PresenceError } from '../../lib/presence/state.js';

const FIXTURES = join(process.cwd(), 'fixtures', 'publish');

const PIDF = 'xmlns="urn:ietf:params:xml:ns:pidf"';
const NAMESPACES = `${PIDF} xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"`;

/** A document with the usual namespaces around `content`. */
function pidf(content: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<presence ${NAMESPACES} entity="sip:6002@example.com">${content}</presence>`;
}

function person(activities: string[], note?: string): string {
  const noteElement = note === undefined ? '' : `<dm:note>${note}</dm:note>`;
  return `<dm:person id="p"><rpid:activities>${activities.map((activity) => `<rpid:${activity}/>`).join('')}</rpid:activities>${noteElement}</dm:person>`;
}

function tuple(basic: string, note?: string): string {
  return `<tuple id="t"><status><basic>${basic}</basic></status>${note === undefined ? '' : `<note>${note}</note>`}</tuple>`;
}

/** A valid document of exactly `bytes` bytes, padded in its note. */
function documentOfBytes(bytes: number): string {
  const head = '<presence entity="sip:a@example.com"><note>';
  const tail = '</note></presence>';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

function stateOf(xml: string): ReturnType<typeof publishedState> {
  return publishedState(parsePidf(xml));
}

describe('presence/pidf-reader', () => {
  describe('golden PUBLISH bodies (fixtures/publish)', () => {
    for (const file of readdirSync(FIXTURES).filter((name) => name.endsWith('.xml'))) {
      it(`${file} reads as ${file.replace(/\.xml$/, '.expected.json')}`, () => {
        const expected = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.xml$/, '.expected.json')), 'utf8')) as {
          parsed: ParsedPidf;
          state: ReturnType<typeof publishedState> | null;
        };
        const parsed = parsePidf(readFileSync(join(FIXTURES, file), 'utf8'));
        expect(parsed).to.deep.equal(expected.parsed);
        expect(publishedState(parsed) ?? null).to.deep.equal(expected.state);
      });
    }
  });

  describe('parsePidf', () => {
    it('reads prefixed elements, character references, the first presence note and tuple notes', () => {
      const xml = '<?xml version="1.0"?>\n<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" entity="sip:a@example.com">' +
        '<p:tuple id="t1"><p:status><p:basic>closed</p:basic></p:status><p:note>in tuple</p:note></p:tuple>' +
        '<p:note xml:lang="fr">caf&#233; &#x1F600; &amp;</p:note><p:note>second</p:note></p:presence>';
      expect(parsePidf(xml)).to.deep.equal({
        entity: 'sip:a@example.com',
        note: 'café 😀 &',
        tuples: [{ id: 't1', basic: 'closed', note: 'in tuple' }],
      });
    });

    it('leaves note and persons undefined and tuples empty when absent', () => {
      expect(parsePidf(`<presence ${PIDF} entity="sip:a@example.com"/>`)).to.deep.equal({ entity: 'sip:a@example.com', tuples: [] });
    });

    it('accepts PIDF elements without a namespace', () => {
      const xml = '<presence entity="sip:a@example.com"><tuple id="x"><status><basic>open</basic></status></tuple></presence>';
      expect(parsePidf(xml).tuples).to.deep.equal([{ id: 'x', basic: 'open' }]);
    });

    it('reads a digium_presence without subtype or message as empty strings', () => {
      const xml = '<presence entity="sip:a@example.com"><tuple id="digium-presence"><status>' +
        '<digium_presence type="dnd"></digium_presence></status></tuple></presence>';
      expect(parsePidf(xml).tuples).to.deep.equal([{ id: 'digium-presence', digium: { type: 'dnd', subtype: '', message: '' } }]);
    });

    it('keeps document order: tuples, persons and activities', () => {
      const parsed = parsePidf(pidf(`${tuple('closed')}<tuple id="u"><status><basic>open</basic></status></tuple>` +
        `${person(['meal', 'away'])}<dm:person id="q"><rpid:activities><rpid:tv/></rpid:activities></dm:person>`));
      expect(parsed.tuples.map((entry) => entry.basic)).to.deep.equal(['closed', 'open']);
      expect(parsed.persons?.map((entry) => entry.activities)).to.deep.equal([['meal', 'away'], ['tv']]);
    });

    it('resolves namespaces, not prefixes: a redeclared default namespace and foreign look-alikes', () => {
      const xml = `<presence ${PIDF} entity="sip:a@example.com">` +
        '<person xmlns="urn:ietf:params:xml:ns:pidf:data-model" id="p">' +
        '<activities xmlns="urn:ietf:params:xml:ns:pidf:rpid"><busy/><x:away xmlns:x="urn:example:other"/></activities>' +
        '<rpid:activities xmlns:rpid="urn:example:not-rpid"><rpid:vacation/></rpid:activities>' +
        '</person>' +
        '<dm:person xmlns:dm="urn:example:not-the-data-model" id="fake"/>' +
        '<tuple id="t"><status><x:basic xmlns:x="urn:example:other">closed</x:basic><basic>open</basic></status></tuple>' +
        '</presence>';
      expect(parsePidf(xml)).to.deep.equal({
        entity: 'sip:a@example.com',
        tuples: [{ id: 't', basic: 'open' }],
        persons: [{ id: 'p', activities: ['busy'] }],
      });
    });

    it('ignores activities under an undeclared prefix', () => {
      const xml = `<presence ${PIDF} xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="sip:a@example.com">` +
        '<dm:person id="p"><rpid:activities><rpid:away/></rpid:activities></dm:person></presence>';
      expect(parsePidf(xml).persons).to.deep.equal([{ id: 'p', activities: [] }]);
    });

    it('joins CDATA with the text around it and folds line breaks', () => {
      const parsed = parsePidf(pidf('<note>\n  Out <![CDATA[<lunch>]]>\n   until 2\n</note>'));
      expect(parsed.note).to.equal('Out <lunch> until 2');
    });

    it('takes a person <note> in the PIDF namespace too', () => {
      expect(parsePidf(pidf('<dm:person id="p"><note>pidf note</note></dm:person>')).persons)
        .to.deep.equal([{ id: 'p', activities: [], note: 'pidf note' }]);
    });

    it('accepts a document of exactly MAX_PIDF_BYTES', () => {
      const xml = documentOfBytes(MAX_PIDF_BYTES);
      expect(Buffer.byteLength(xml)).to.equal(MAX_PIDF_BYTES);
      expect(parsePidf(xml).note).to.match(/^x+$/);
    });

    const MALFORMED: Record<string, string> = {
      'empty input': '',
      'text': 'open',
      'unclosed element': '<presence entity="sip:a@example.com"><tuple id="x"></presence>',
      'unclosed root': '<presence entity="sip:a@example.com">',
      'no presence root': '<tuple id="x"/>',
      'no entity': '<presence><tuple id="x"/></presence>',
      'a root in another namespace': '<presence xmlns="urn:example:other" entity="sip:a@example.com"/>',
      'DOCTYPE (entity expansion)': '<!DOCTYPE presence [<!ENTITY a "aaaa">]><presence entity="&a;"/>',
      'DOCTYPE without entities': '<!doctype presence><presence entity="sip:a@example.com"/>',
      'character reference to a control character': '<presence entity="sip:a@example.com"><note>&#7;</note></presence>',
      'character reference out of range': '<presence entity="sip:a@example.com"><note>&#x110000;</note></presence>',
      'an element named like an object property': '<presence entity="sip:a@example.com"><constructor/></presence>',
      'nesting deeper than the parser allows': `<presence entity="sip:a@example.com">${'<x>'.repeat(200)}${'</x>'.repeat(200)}</presence>`,
      'one byte more than MAX_PIDF_BYTES': documentOfBytes(MAX_PIDF_BYTES + 1),
    };
    for (const [name, xml] of Object.entries(MALFORMED)) {
      it(`throws PresenceError on ${name}`, () => {
        expect(() => parsePidf(xml)).to.throw(PresenceError, /^Malformed PIDF/);
      });
    }
  });

  describe('publishedState', () => {
    it('prefers digium_presence over activities and basic', () => {
      const digium = '<tuple id="d"><status><digium_presence type="XA" subtype="lunch">Back at 2</digium_presence></status></tuple>';
      expect(stateOf(pidf(tuple('closed') + person(['busy'], 'meeting') + digium)))
        .to.deep.equal({ state: 'xa', subtype: 'lunch', message: 'Back at 2' });
    });

    it('skips a digium_presence whose type is not a state', () => {
      const digium = '<tuple id="d"><status><digium_presence type="sleepy">zzz</digium_presence></status></tuple>';
      expect(stateOf(pidf(digium + person(['away'])))).to.deep.equal({ state: 'away', subtype: '', message: '' });
    });

    it('prefers activities over basic, the most restrictive activity winning', () => {
      expect(stateOf(pidf(tuple('closed') + person(['working', 'meal', 'holiday'])))).to.deep.equal({ state: 'xa', subtype: 'holiday', message: '' });
      expect(stateOf(pidf(tuple('open') + person(['away', 'appointment'])))).to.deep.equal({ state: 'dnd', subtype: 'appointment', message: '' });
      expect(stateOf(pidf(person(['working'])))).to.deep.equal({ state: 'available', subtype: 'working', message: '' });
    });

    it('names the activity in the subtype unless it is the plain away or busy', () => {
      expect(stateOf(pidf(person(['away'])))?.subtype).to.equal('');
      expect(stateOf(pidf(person(['busy'])))?.subtype).to.equal('');
      expect(stateOf(pidf(person(['vacation'])))?.subtype).to.equal('vacation');
    });

    it('falls back to the first <basic> when no activity is known', () => {
      expect(stateOf(pidf(person(['unknown', 'other']) + tuple('open') + tuple('closed'))))
        .to.deep.equal({ state: 'available', subtype: '', message: '' });
      expect(stateOf(pidf(tuple(' Closed ')))).to.deep.equal({ state: 'unavailable', subtype: '', message: '' });
    });

    it('takes the message from the person note, else the document note, else a tuple note', () => {
      expect(stateOf(pidf(tuple('open', 'tuple') + person(['away'], 'person') + '<note>document</note>'))?.message).to.equal('person');
      expect(stateOf(pidf(tuple('open', 'tuple') + person(['away']) + '<note>document</note>'))?.message).to.equal('document');
      expect(stateOf(pidf(tuple('open', 'tuple') + person(['away'])))?.message).to.equal('tuple');
    });

    it('drops control characters that character references smuggle in', () => {
      expect(stateOf(pidf(person(['away'], 'tab&#9;here'))))
        .to.deep.equal({ state: 'away', subtype: '', message: 'tabhere' });
    });

    it('is undefined when the document says nothing usable', () => {
      expect(stateOf(pidf(''))).to.equal(undefined);
      expect(stateOf(pidf(tuple('maybe') + person(['unknown'])))).to.equal(undefined);
    });

    it('returns frozen states', () => {
      expect(Object.isFrozen(stateOf(pidf(tuple('open'))))).to.equal(true);
    });
  });
});
