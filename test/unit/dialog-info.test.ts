// RFC 4235 dialog-info bodies: one golden file per extension state, every one valid against the schema we wrote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { EXTENSION_STATES } from '../../lib/devices/device-state.js';
import { buildDialogInfo, dialogPhase } from '../../lib/devices/dialog-info.js';
import { dialogInfoSchemaErrors, parseDialogInfo } from '../helpers/dialog-info.js';

const GOLDEN_DIR = join(process.cwd(), 'fixtures', 'dialog');

function golden(state: string): string {
  return readFileSync(join(GOLDEN_DIR, `${state.replace('&', '-')}.xml`), 'utf8');
}

const input = (state: typeof EXTENSION_STATES[number]) => ({ entity: 'sip:2000@pbx.example.com', version: '7', dialogId: 'a1b2c3d4-12', state });

describe('devices/dialog-info', () => {
  for (const state of EXTENSION_STATES) {
    it(`${state} matches fixtures/dialog and validates against dialog-info.xsd`, function () {
      const body = buildDialogInfo(input(state));
      expect(body).to.equal(golden(state));
      expect(dialogInfoSchemaErrors(body)).to.equal('');
    });
  }

  it('maps each extension state to the dialog a lamp needs: ringing is early for the recipient, hold is not rendered', function () {
    const read = (state: typeof EXTENSION_STATES[number]) => parseDialogInfo(buildDialogInfo(input(state))).dialogs[0]!;
    expect(read('Idle')).to.include({ state: 'terminated', direction: undefined, note: undefined });
    expect(read('Unavailable')).to.include({ state: 'terminated', note: 'Unavailable' });
    expect(read('InUse')).to.include({ state: 'confirmed', direction: undefined, rendering: undefined });
    expect(read('Busy')).to.include({ state: 'confirmed' });
    expect(read('Ringing')).to.include({ state: 'early', direction: 'recipient' });
    expect(read('InUse&Ringing')).to.include({ state: 'early', direction: 'recipient' });
    expect(read('Hold')).to.include({ state: 'confirmed', rendering: 'no' });
    expect(EXTENSION_STATES.map(dialogPhase)).to.deep.equal(['terminated', 'confirmed', 'confirmed', 'terminated', 'early', 'early', 'confirmed']);
  });

  it('escapes the entity and the dialog id', function () {
    const body = buildDialogInfo({ entity: 'sip:a"b@x<y>', version: '0', dialogId: '1&2', state: 'Idle' });
    expect(body).to.contain('entity="sip:a&quot;b@x&lt;y&gt;"').and.to.contain('id="1&amp;2"');
  });

  // The schema must be able to say no, or the checks above prove nothing.
  it('the schema refuses a dialog without a state, an unknown state, a bad direction and a missing version', function () {
    const valid = buildDialogInfo(input('Ringing'));
    const broken = [
      valid.replace('<state>early</state>\n', ''),
      valid.replace('<state>early</state>', '<state>ringing</state>'),
      valid.replace('direction="recipient"', 'direction="callee"'),
      valid.replace(' version="7"', ''),
      valid.replace('state="full"', 'state="all"'),
    ];
    for (const body of broken) expect(dialogInfoSchemaErrors(body), body).to.not.equal('');
  });
});
