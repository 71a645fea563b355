import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  formatChange, formatHints, formatPresenceList, formatPublications, formatReload, formatStats, formatSubscriptions, type HintRow,
  type PresenceListRow, type PublicationRow, type SubscriptionRow,
} from '../../lib/control/format.js';

function golden(name: string): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'format', `${name}.txt`), 'utf8');
}

describe('control/format', () => {
  describe('formatPresenceList', () => {
    const rows: PresenceListRow[] = [
      { name: 'lamp3', state: 'xa', subtype: 'On vacation', message: '', base64: true, source: 'setting' },
      { name: '6002', state: 'away', subtype: 'at home', message: 'Sick with the flu', base64: false, source: 'setting' },
      { name: 'lamp2', state: 'dnd', subtype: '', message: 'Trying to get work done', base64: false, source: 'publication', publisher: 'sip:lamp2@pbx (Linphone/5.2)', etag: '0f1e2d3c4b5a6978' },
    ];

    it('prints the states like Asterisk, sorted by name, base64 values re-encoded, each with its source', () => {
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
      const output = formatPresenceList([{ name: 'x\u001b[2J', state: 'away', subtype: '', message: 'a\u0007b', base64: false, source: 'publication', publisher: 'sip:x@y (\u001b[31m)' }]);
      expect(output).to.include("--- Name: 'CustomPresence:x[2J'");
      expect(output).to.include("--- Message: 'ab'");
      expect(output).to.include("--- Source: 'PUBLISH  from sip:x@y ([31m)'");
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
      { id: 'a1b2c3d4', resource: '6002@default', event: 'presence', watcher: 'sip:6001@example.com', userAgent: 'Digium D65 2_9_16', transport: 'UDP 127.0.0.1:5090', expiresIn: 3599.7 },
      { id: '0f0e0d0c0b0a', resource: '7777@from-internal', event: 'dialog', watcher: 'sip:alice@example.com', userAgent: 'Linphone/5.2 (belle-sip/5.2)', transport: 'TCP [::1]:40512', expiresIn: 42 },
      { id: 'ffee', resource: '6005@default', event: 'presence', watcher: 'sip:bob@example.com', userAgent: 'Zoé\u001b[31m 中文', transport: 'UDP 10.0.0.7:5060', expiresIn: -1 },
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

  describe('formatPublications', () => {
    const rows: PublicationRow[] = [
      { etag: '5e1f00aa12345678', entity: 'CustomPresence:6002', state: 'dnd', subtype: '', message: '', publisher: 'sip:6002@pbx (Digium D65)', expiresIn: 3599.4, effective: true },
      { etag: '00c0ffee00c0ffee', entity: 'CustomPresence:6002', state: 'away', subtype: '', message: '', publisher: 'sip:6002@pbx (Zoé\u001b[31m)', expiresIn: 61, effective: false },
    ];

    it('prints aligned columns under a header, then the count', () => {
      expect(formatPublications(rows)).to.equal(golden('publications'));
    });

    it('prints the header and a zero count when there are none', () => {
      expect(formatPublications([])).to.equal('ETag  Entity  State  In effect  Publisher  Expires\n0 live publications\n');
    });
  });

  describe('formatReload', () => {
    it('prints one line per part, saying which were not reloaded', () => {
      expect(formatReload([
        { part: 'pjsip.conf', ok: true, detail: '3 endpoint(s) and 0 acl(s) from /etc/asterisk/pjsip.conf' },
        { part: 'dialplan', ok: false, detail: '/etc/asterisk/extensions.conf has no hints; keeping the previous dialplan' },
      ])).to.equal('Reloaded pjsip.conf: 3 endpoint(s) and 0 acl(s) from /etc/asterisk/pjsip.conf\n' +
        'Not reloaded dialplan: /etc/asterisk/extensions.conf has no hints; keeping the previous dialplan\n');
    });
  });
});
