import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  amiTimestamp, escapeC, hintsUsing, presenceStateChangeEvent, presenceStatusEvents,
} from '../../lib/control/ami/ami-events.js';
import { AMI_CLASSES } from '../../lib/control/ami/ami-permissions.js';
import { Dialplan } from '../../lib/presence/hints.js';
import type { PresenceState } from '../../lib/presence/state.js';

const DIALPLAN = [
  '[default]',
  'exten => 6002,hint,PJSIP/6002,CustomPresence:6002',
  'exten => 6003,hint,PJSIP/6003&SIP/6003,CustomPresence:6002',
  'exten => 2000,hint,,CustomPresence:2000',
  'exten => _6XXX,hint,PJSIP/${EXTEN},CustomPresence:6002',
  '[other]',
  'exten => 8000,hint,,CustomPresence:6002',
].join('\n');

const state: PresenceState = { state: 'away', subtype: "Bob's \"home\"", message: 'C:\\temp? back at 2' };

describe('ami/events', () => {
  const dialplan = Dialplan.parse(DIALPLAN);

  it('writes PresenceStateChange and the PresenceStatus of each hint like Asterisk (golden)', () => {
    const events = [presenceStateChangeEvent('CustomPresence:6002', state, { timestamp: false }),
      ...presenceStatusEvents(dialplan, 'CustomPresence:6002', state, { timestamp: false })];
    expect(events.every((event) => event.category === AMI_CLASSES.call)).to.equal(true);
    expect(events.map((event) => event.text).join('')).to.equal(readFileSync(join(process.cwd(), 'fixtures', 'ami', 'events.txt'), 'utf8'));
  });

  it('adds a Timestamp after Privilege when timestampevents is on', () => {
    const { text } = presenceStateChangeEvent('CustomPresence:1', state, { timestamp: true });
    expect(text).to.match(/^Event: PresenceStateChange\r\nPrivilege: call,all\r\nTimestamp: \d+\.\d{6}\r\nPresentity: CustomPresence:1\r\n/);
  });

  it('finds the concrete hints of a provider in every context, and none for a provider no hint uses', () => {
    expect(hintsUsing(dialplan, 'CustomPresence:6002').map((hint) => `${hint.exten}@${hint.context}`)).to.deep.equal(['6002@default', '6003@default', '8000@other']);
    expect(hintsUsing(dialplan, 'CustomPresence:2000')).to.have.length(1);
    expect(hintsUsing(dialplan, 'CustomPresence:9999')).to.deep.equal([]);
  });

  it('escapes like ast_escape_c', () => {
    expect(escapeC('it\'s "x" \\ ? \t')).to.equal('it\\\'s \\"x\\" \\\\ \\? \\t');
    expect(escapeC('plain text, ünïcode')).to.equal('plain text, ünïcode');
  });

  it('prints timestamps as seconds and microseconds', () => {
    expect(amiTimestamp(1_700_000_000_123)).to.equal('1700000000.123000');
    expect(amiTimestamp(5)).to.equal('0.005000');
  });
});
