import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  ACCEPTED_BODY_TYPES, BODY_FORMATS, bodyFormat, CPIM_PIDF_FORMAT, negotiateBody, PIDF_FORMAT, renderBody, XPIDF_FORMAT, type BodyFormat,
} from '../../lib/presence/bodies.js';
import { buildPidf, type PidfInput } from '../../lib/presence/pidf.js';
import { PRESENCE_STATES } from '../../lib/presence/state.js';
import { buildXpidf } from '../../lib/presence/xpidf.js';

const SCHEMA_DIR = join(process.cwd(), 'fixtures', 'schema');
const SCHEMA_OF: Record<string, string> = {
  'application/pidf+xml': join(SCHEMA_DIR, 'pidf.xsd'),
  'application/cpim-pidf+xml': join(SCHEMA_DIR, 'pidf.xsd'),
  'application/xpidf+xml': join(SCHEMA_DIR, 'xpidf.xsd'),
};

const hasXmllint = !spawnSync('xmllint', ['--version']).error;

/** Validates files (or stdin, '-') against a schema; the result lists the files that failed, with xmllint's words. */
function xmllint(schema: string, files: string[], input?: string): { status: number | null; failures: string } {
  const result = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schema, ...files], { input, encoding: 'utf8' });
  return { status: result.status, failures: result.stderr.split('\n').filter((line) => line !== '' && !line.endsWith(' validates')).join('\n') };
}

function fixtures(folder: string): string[] {
  const directory = join(process.cwd(), 'fixtures', folder);
  return readdirSync(directory).filter((name) => name.endsWith('.xml')).map((name) => join(directory, name));
}

describe('presence/bodies', () => {
  describe('negotiateBody', () => {
    const CASES: Array<[string, string[], BodyFormat | undefined]> = [
      ['no Accept: the package default', [], PIDF_FORMAT],
      ['an empty Accept', [''], PIDF_FORMAT],
      ['an Accept of blanks and commas', [' , '], PIDF_FORMAT],
      ['PIDF', ['application/pidf+xml'], PIDF_FORMAT],
      ['PIDF in capitals', ['Application/PIDF+XML'], PIDF_FORMAT],
      ['PIDF with a charset parameter', ['application/pidf+xml;charset=UTF-8'], PIDF_FORMAT],
      ['XPIDF', ['application/xpidf+xml'], XPIDF_FORMAT],
      ['CPIM-PIDF', ['application/cpim-pidf+xml'], CPIM_PIDF_FORMAT],
      ['*/*', ['*/*'], PIDF_FORMAT],
      ['application/*', ['application/*'], PIDF_FORMAT],
      ['PIDF and XPIDF: our order, whatever theirs', ['application/xpidf+xml, application/pidf+xml'], PIDF_FORMAT],
      ['a named type against a wildcard of the same q', ['application/xpidf+xml, */*'], XPIDF_FORMAT],
      ['a lower q for PIDF', ['application/pidf+xml;q=0.5, application/xpidf+xml'], XPIDF_FORMAT],
      ['a wildcard with a higher q than the named type', ['application/xpidf+xml;q=0.2, */*;q=0.5'], PIDF_FORMAT],
      ['PIDF refused, the rest by wildcard', ['*/*, application/pidf+xml;q=0'], CPIM_PIDF_FORMAT],
      ['a wildcard refused, one type named', ['application/*;q=0, application/xpidf+xml'], XPIDF_FORMAT],
      ['PIDF refused and nothing else', ['application/pidf+xml;q=0.000'], undefined],
      ['multipart/related alone', ['multipart/related'], undefined],
      ['an RLS list without PIDF', ['multipart/related, application/rlmi+xml'], undefined],
      ['an RLS list with PIDF (RFC 4662)', ['multipart/related, application/rlmi+xml, application/pidf+xml'], PIDF_FORMAT],
      ['only types we do not produce', ['text/plain, application/dialog-info+xml'], undefined],
      ['a malformed q counts as 1', ['application/pidf+xml;q=high, application/xpidf+xml;q=0.9'], PIDF_FORMAT],
      ['several Accept lines', ['text/plain', 'application/xpidf+xml'], XPIDF_FORMAT],
      ['a type listed twice: its best q', ['application/pidf+xml;q=0.1', 'application/pidf+xml;q=0.9, application/xpidf+xml;q=0.5'], PIDF_FORMAT],
    ];
    for (const [name, accept, expected] of CASES) {
      it(`${name}: ${JSON.stringify(accept)} → ${expected?.contentType ?? 'nothing (406)'}`, () => {
        expect(negotiateBody(accept)).to.equal(expected);
      });
    }
  });

  describe('the registry', () => {
    it('lists what we accept for a 406, PIDF first', () => {
      expect(ACCEPTED_BODY_TYPES).to.deep.equal(['application/pidf+xml', 'application/cpim-pidf+xml', 'application/xpidf+xml']);
    });

    it('finds each format by its Content-Type, and nothing for another type', () => {
      for (const format of BODY_FORMATS) expect(bodyFormat(format.contentType)).to.equal(format);
      expect(bodyFormat('application/dialog-info+xml')).to.equal(undefined);
    });

    it('renders each format with its Content-Type, without parameters', () => {
      const input: PidfInput = {
        entity: 'sip:6002@example.com', tupleId: '6002', hasDevice: false, digium: true,
        presence: { state: 'away', subtype: 'at home', message: 'Sick' },
      };
      expect(renderBody(PIDF_FORMAT, input)).to.deep.equal({ contentType: 'application/pidf+xml', body: buildPidf(input) });
      expect(renderBody(CPIM_PIDF_FORMAT, input)).to.deep.equal({ contentType: 'application/cpim-pidf+xml', body: buildPidf(input) });
      expect(renderBody(XPIDF_FORMAT, input)).to.deep.equal({ contentType: 'application/xpidf+xml', body: buildXpidf(input) });
    });
  });

  describe('schemas (fixtures/schema)', function () {
    beforeEach(function () {
      if (!hasXmllint) this.skip(); // xmllint (libxml2-utils) is not installed on this machine
    });

    it('every PIDF golden body validates against pidf.xsd', () => {
      const files = fixtures('pidf');
      expect(files).to.have.length.above(10);
      const { status, failures } = xmllint(SCHEMA_OF['application/pidf+xml']!, files);
      expect(failures).to.equal('');
      expect(status).to.equal(0);
    });

    it('every XPIDF golden body validates against xpidf.xsd', () => {
      const files = fixtures('xpidf');
      expect(files).to.have.length.above(5);
      const { status, failures } = xmllint(SCHEMA_OF['application/xpidf+xml']!, files);
      expect(failures).to.equal('');
      expect(status).to.equal(0);
    });

    it('every body of every format validates: all states, with and without device and digium tuple', () => {
      const directory = mkdtempSync(join(tmpdir(), 'presenced-bodies-'));
      try {
        for (const format of BODY_FORMATS) {
          const files: string[] = [];
          for (const state of PRESENCE_STATES) {
            for (const hasDevice of [false, true]) {
              for (const digium of [false, true]) {
                const input: PidfInput = {
                  entity: 'sip:6002@pbx.example.com', tupleId: '6002', hasDevice, digium,
                  presence: { state, subtype: 'at home', message: 'Back at 3 & later' },
                };
                const file = join(directory, `${files.length}.xml`);
                writeFileSync(file, renderBody(format, input).body);
                files.push(file);
              }
            }
          }
          const { status, failures } = xmllint(SCHEMA_OF[format.contentType]!, files);
          expect(failures, format.contentType).to.equal('');
          expect(status, format.contentType).to.equal(0);
        }
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    // The schemas must be able to say no, or the checks above prove nothing.
    const VALID_PERSON = '<dm:person id="person"><rpid:activities><rpid:away/></rpid:activities><dm:note>x</dm:note></dm:person>';
    const document = (tuple: string, rest: string) => '<presence xmlns="urn:ietf:params:xml:ns:pidf"' +
      ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:a@b">' +
      `${tuple}${rest}</presence>`;
    const TUPLE = '<tuple id="6002"><status><basic>open</basic></status><contact priority="1">sip:a@b</contact></tuple>';
    const REJECTED: Record<string, string> = {
      'a basic other than open or closed': document('<tuple id="6002"><status><basic>busy</basic></status></tuple>', ''),
      'a tuple without status': document('<tuple id="6002"><contact>sip:a@b</contact></tuple>', ''),
      'a contact before the status': document('<tuple id="6002"><contact>sip:a@b</contact><status/></tuple>', ''),
      'a note before the tuples': document('', `<note>x</note>${TUPLE}`),
      'a person before the tuples': document('', `${VALID_PERSON}${TUPLE}`),
      'a person without id': document(TUPLE, '<dm:person><dm:note>x</dm:note></dm:person>'),
      'a person id starting with a digit': document(TUPLE, '<dm:person id="1"><dm:note>x</dm:note></dm:person>'),
      'the person note before the activities': document(TUPLE, '<dm:person id="p"><dm:note>x</dm:note><rpid:activities><rpid:away/></rpid:activities></dm:person>'),
      'an activity RFC 4480 does not define': document(TUPLE, '<dm:person id="p"><rpid:activities><rpid:lunch/></rpid:activities></dm:person>'),
      'text in an activity': document(TUPLE, '<dm:person id="p"><rpid:activities><rpid:busy>Do not disturb</rpid:busy></rpid:activities></dm:person>'),
      'unknown together with an activity': document(TUPLE, '<dm:person id="p"><rpid:activities><rpid:unknown/><rpid:away/></rpid:activities></dm:person>'),
      'a digium_presence of an unknown type': document('<tuple id="d"><status><digium_presence type="lunch"/></status></tuple>', ''),
      'no entity': '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>',
      'the wrong namespace': '<presence xmlns="urn:ietf:params:xml:ns:cpim-pidf" entity="sip:a@b"/>',
    };
    for (const [name, xml] of Object.entries(REJECTED)) {
      it(`pidf.xsd rejects ${name}`, () => {
        const { status, failures } = xmllint(SCHEMA_OF['application/pidf+xml']!, ['-'], xml);
        expect(failures).to.include('fails to validate');
        expect(status).not.to.equal(0);
      });
    }

    it('pidf.xsd accepts the same documents done right (so the rejections above are about their one fault)', () => {
      for (const xml of [document(TUPLE, `<note>x</note>${VALID_PERSON}`), document(TUPLE, '<dm:person id="p"><rpid:activities><rpid:unknown/></rpid:activities></dm:person>')]) {
        expect(xmllint(SCHEMA_OF['application/pidf+xml']!, ['-'], xml)).to.deep.equal({ status: 0, failures: '' });
      }
    });

    const XPIDF = (status: string) => '<presence><presentity uri="sip:a@b;method=SUBSCRIBE" /><atom id="6002">' +
      `<address uri="sip:a@b;user=ip" priority="0.800000">${status}</address></atom></presence>`;
    it('xpidf.xsd rejects an unknown status or substatus and accepts a known one', () => {
      const check = (xml: string) => xmllint(SCHEMA_OF['application/xpidf+xml']!, ['-'], xml).status;
      expect(check(XPIDF('<status status="away" />'))).not.to.equal(0);
      expect(check(XPIDF('<status status="open" /><msnsubstatus substatus="dnd" />'))).not.to.equal(0);
      expect(check(XPIDF('<status status="inactive" /><msnsubstatus substatus="away" />'))).to.equal(0);
    });
  });
});
