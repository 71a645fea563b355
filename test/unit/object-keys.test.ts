// D5: every table a lookup keyed by input reaches answers "not there" for names that are Object.prototype members.
import { expect } from 'chai';
import { extensionStatus } from '../../lib/control/ami/ami-events.js';
import { parsePidf, publishedState } from '../../lib/presence/pidf-reader.js';
import { isStateName } from '../../lib/presence/state.js';
import { headerKey } from '../../lib/sip/header-lines.js';

const PROPERTY_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty'];

function rpid(activity: string): string {
  return '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" ' +
    'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:6002@pbx">' +
    `<dm:person id="p"><rpid:activities><rpid:${activity}/></rpid:activities></dm:person></presence>`;
}

describe('lookups keyed by input (D5)', function () {
  for (const name of PROPERTY_NAMES) {
    it(`'${name}' is no RPID activity, header compact form, ExtensionState status or presence state`, function () {
      expect(publishedState(parsePidf(rpid(name)))).to.equal(undefined);
      expect(headerKey(name)).to.equal(name.toLowerCase());
      expect(extensionStatus(name)).to.equal(-1);
      expect(isStateName(name)).to.equal(false);
    });
  }

  it('still knows the real entries', function () {
    expect(publishedState(parsePidf(rpid('on-the-phone')))).to.deep.include({ state: 'dnd' });
    expect(headerKey('v')).to.equal('via');
    expect(extensionStatus('InUse')).to.equal(1);
    expect(isStateName('away')).to.equal(true);
  });
});
