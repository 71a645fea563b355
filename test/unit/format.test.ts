import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  formatChange, formatHints, formatPresenceList, formatStats, formatSubscriptions, type HintRow, type PresenceListRow,
  type SubscriptionRow,
} from '../../lib/control/format.js';

function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'format', `${name}.txt`), 'utf8');
}

describe('control/format', () => {
  describe('formatPresenceList', () => {
    const rows: PresenceListRow[] = [
      { name: 'lamp3', state: 'xa', subtype: 'On vacation', message: '', base64: true },
      { name: '6002', state: 'away', subtype: 'at home', message: 'Sick with the flu', base64: false },
      { name: 'lamp2', state: 'dnd', subtype: '', message: 'Trying to get work done', base64: false },
    ];

    it('prints the states like Asterisk, sorted by name, base64 values re-encoded', () => {
      expect(formatPresenceList(rows)).to.equal(golden('presence-list'));
    });

    it('prints "No custom presence states defined" when there are none', () => {
      expect(formatPresenceList([])).to.equal(golden('presence-list-empty'));
    });

    it('does not reorder the rows it is given', () => {
      const copy = [...rows];
      formatPresenceList(rows);
      expect(rows).to.deep.equal(copy);
    });

    it('keeps control characters out of the terminal', () => {
      const output = formatPresenceList([{ name: 'x\u001b[2J', state: 'away', subtype: '', message: 'a\u0007b', base64: false }]);
      expect(output).to.include("--- Name: 'CustomPresence:x[2J'");
      expect(output).to.include("--- Message: 'ab'");
    });
  });

  describe('formatChange', () => {
    it('echoes the name without prefix and the state part as typed', () => {
      expect(formatChange('6002', 'UNAVAILABLE')).to.equal('Changing 6002 to UNAVAILABLE');
      expect(formatChange('lamp1', 'away')).to.equal('Changing lamp1 to away');
    });
  });

  describe('formatHints', () => {
    const rows: HintRow[] = [
      { exten: '6001', context: 'default', hint: 'SIP/6001', deviceState: 'Idle', presence: 'not_set', watchers: 0 },
      { exten: '6002', context: 'from-internal', hint: 'SIP/6002,CustomPresence:6002', deviceState: 'Idle', presence: 'away', watchers: 12 },
      { exten: '6005', context: 'default', hint: ',CustomPresence:Elle', deviceState: 'Idle', presence: 'dnd', watchers: 3 },
      { exten: '123456789', context: 'a-very-long-context', hint: 'PJSIP/é中🎉', deviceState: 'Unavailable', presence: 'unavailable', watchers: 100 },
    ];

    it("prints the hints like Asterisk's core show hints, truncating long columns", () => {
      expect(formatHints(rows)).to.equal(golden('hints'));
    });

    it('prints Asterisk\'s message when there are no hints', () => {
      expect(formatHints([])).to.equal(golden('hints-empty'));
    });

    it('gives every hint line the same width up to the watchers', () => {
      const lines = formatHints(rows).split('\n').filter((line) => line.includes('Watchers'));
      expect(lines).to.have.length(rows.length);
      for (const line of lines) {
        expect(Array.from(line.slice(0, line.indexOf('Watchers'))).length).to.equal(91);
      }
    });
  });

  describe('formatStats', () => {
    it('aligns the values after the longest label', () => {
      expect(formatStats([['Hints', '6'], ['Resident memory', '70.1 MiB']])).to.equal('Hints:           6\nResident memory: 70.1 MiB\n');
    });
  });

  describe('formatSubscriptions', () => {
    const rows: SubscriptionRow[] = [
      { resource: '6002@default', watcher: 'sip:6001@example.com', userAgent: 'Digium D65 2_9_16', transport: 'UDP 127.0.0.1:5090', expiresIn: 3599.7 },
      { resource: '7777@from-internal', watcher: 'sip:alice@example.com', userAgent: 'Linphone/5.2 (belle-sip/5.2)', transport: 'TCP [::1]:40512', expiresIn: 42 },
      { resource: '6005@default', watcher: 'sip:bob@example.com', userAgent: 'Zoé\u001b[31m 中文', transport: 'UDP 10.0.0.7:5060', expiresIn: -1 },
    ];

    it('prints aligned columns under a header, then the count', () => {
      expect(formatSubscriptions(rows)).to.equal(golden('subscriptions'));
    });

    it('prints the header and a zero count when there are none', () => {
      expect(formatSubscriptions([])).to.equal(golden('subscriptions-empty'));
    });

    it('uses the singular for one subscription', () => {
      expect(formatSubscriptions(rows.slice(0, 1)).endsWith('\n1 active subscription\n')).to.equal(true);
    });
  });
});
