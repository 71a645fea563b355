import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { MAX_DIALOG_INFO_BYTES, parsePublishedDialogInfo, publishedDeviceState, type ParsedDialogInfo } from '../../lib/devices/dialog-info-reader.js';
import { DeviceStateError } from '../../lib/devices/device-state.js';

const FIXTURES = join(process.cwd(), 'fixtures', 'dialog-publish');
const NAMESPACE = 'xmlns="urn:ietf:params:xml:ns:dialog-info"';

function document(dialogs: string, attributes = 'version="1" state="full" entity="sip:2000@example.com"'): string {
  return `<?xml version="1.0"?>\n<dialog-info ${NAMESPACE} ${attributes}>${dialogs}</dialog-info>`;
}

function refusal(xml: string): string {
  try {
    parsePublishedDialogInfo(xml);
  } catch (error) {
    expect(error).to.be.instanceOf(DeviceStateError);
    return (error as Error).message;
  }
  throw new Error('parsed without complaint');
}

function stateOf(dialogs: string): string {
  return publishedDeviceState(parsePublishedDialogInfo(document(dialogs)));
}

describe('devices/dialog-info-reader', () => {
  describe('golden PUBLISH bodies (fixtures/dialog-publish)', () => {
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.xml'));
    it('has bodies to read', () => expect(files.length).to.be.at.least(8));
    for (const file of files) {
      it(`${file} reads as ${file.replace(/\.xml$/, '.expected.json')}`, () => {
        const expected = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.xml$/, '.expected.json')), 'utf8')) as { parsed: ParsedDialogInfo; state: string };
        const parsed = parsePublishedDialogInfo(readFileSync(join(FIXTURES, file), 'utf8'));
        expect(parsed).to.deep.equal(expected.parsed);
        expect(publishedDeviceState(parsed)).to.equal(expected.state);
      });
    }
  });

  describe('device state of the published dialogs', () => {
    it('maps each phase and direction', () => {
      const table: Array<[string, string]> = [
        ['<dialog id="a" direction="recipient"><state>early</state></dialog>', 'RINGING'],
        ['<dialog id="a" direction="initiator"><state>early</state></dialog>', 'INUSE'],
        ['<dialog id="a"><state>early</state></dialog>', 'RINGING'],
        ['<dialog id="a"><state>trying</state></dialog>', 'INUSE'],
        ['<dialog id="a" direction="recipient"><state>trying</state></dialog>', 'RINGING'],
        ['<dialog id="a" direction="initiator"><state>proceeding</state></dialog>', 'INUSE'],
        ['<dialog id="a"><state>confirmed</state></dialog>', 'INUSE'],
        ['<dialog id="a"><state>confirmed</state><local><target uri="sip:a@b"><param pname="+sip.rendering" pvalue="no"/></target></local></dialog>', 'ONHOLD'],
        ['<dialog id="a"><state>confirmed</state><local><target uri="sip:a@b"><param pname="+sip.rendering" pvalue="yes"/></target></local></dialog>', 'INUSE'],
        ['<dialog id="a"><state>terminated</state></dialog>', 'NOT_INUSE'],
        ['', 'NOT_INUSE'],
        ['<dialog id="a"><state>confirmed</state></dialog><dialog id="b" direction="recipient"><state>early</state></dialog>', 'RINGINUSE'],
      ];
      for (const [dialogs, state] of table) expect(stateOf(dialogs), dialogs).to.equal(state);
    });

    it('reads the state case-insensitively and ignores other namespaces inside a dialog', () => {
      expect(stateOf('<dialog id="a"><state> Confirmed </state><x:y xmlns:x="urn:x"><state>early</state></x:y></dialog>')).to.equal('INUSE');
    });
  });

  describe('bad bodies', () => {
    it('names what is wrong', () => {
      const cases: Array<[string, RegExp]> = [
        ['not xml at all', /^Malformed dialog-info \(line 1\)/],
        ['<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:a@b"/>', /no dialog-info element with an entity attribute/],
        [document('', 'version="1" state="full"'), /no dialog-info element with an entity attribute/],
        [document('', 'state="full" entity="sip:a@b"'), /version '' is not a whole number/],
        [document('', 'version="-1" state="full" entity="sip:a@b"'), /version '-1' is not a whole number/],
        [document('', 'version="1" state="partial" entity="sip:a@b"'), /state 'partial' is not accepted: publish the full state/],
        [document('', 'version="1" entity="sip:a@b"'), /state '' \(expected full\)/],
        [document('<dialog><state>early</state></dialog>'), /a dialog has no id/],
        [document('<dialog id="x"/>'), /dialog 'x' has no state of trying, proceeding, early, confirmed, terminated/],
        [document('<dialog id="x"><state>ringing</state></dialog>'), /dialog 'x' has no state/],
        [document('<dialog id="x" direction="sideways"><state>early</state></dialog>'), /direction 'sideways'/],
        ['<!DOCTYPE d [<!ENTITY x "y">]><dialog-info/>', /DOCTYPE is not allowed/],
        [document('<dialog id="&#0;"><state>early</state></dialog>'), /invalid character reference '&#0;'/],
      ];
      for (const [xml, message] of cases) expect(refusal(xml), xml).to.match(message);
    });

    it(`refuses documents over ${MAX_DIALOG_INFO_BYTES} bytes before parsing`, () => {
      const padding = `<!--${'x'.repeat(MAX_DIALOG_INFO_BYTES)}-->`;
      expect(refusal(document(padding))).to.equal(`Malformed dialog-info: larger than ${MAX_DIALOG_INFO_BYTES} bytes`);
    });
  });
});
