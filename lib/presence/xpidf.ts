/**
 * XPIDF bodies (application/xpidf+xml): the pre-RFC presence format of draft-rosenberg-impp-pidf that Windows
 * Messenger, older Polycom and Cisco phones ask for. The document is the one Asterisk's chan_sip sends (XPIDF_XML
 * case of transmit_state_notify), with the status taken from the same basic and RPID activity as the PIDF body.
 * Layout and table: docs/PIDF.md.
 */
import { activityOf, basicAndNote, xmlValue, type PidfInput } from './pidf.js';

/** The <status status> and <msnsubstatus substatus> pair, as MSN-era clients know them. */
export interface XpidfStatus {
  status: 'open' | 'inactive' | 'inuse' | 'closed';
  substatus: 'online' | 'away' | 'busy' | 'offline';
}

const OPEN: XpidfStatus = { status: 'open', substatus: 'online' };
const AWAY: XpidfStatus = { status: 'inactive', substatus: 'away' };
const BUSY: XpidfStatus = { status: 'inuse', substatus: 'busy' };
const CLOSED: XpidfStatus = { status: 'closed', substatus: 'offline' };

/** The PIDF body's basic and activity folded into XPIDF's one status: closed wins, then the activity, else open. */
export function xpidfStatus(input: Pick<PidfInput, 'hasDevice' | 'device' | 'presence'>): XpidfStatus {
  if (basicAndNote(input.hasDevice, input.presence, input.device).basic === 'closed') return CLOSED;
  const activity = activityOf(input);
  return activity === 'away' ? AWAY : activity === 'busy' || activity === 'on-the-phone' ? BUSY : OPEN;
}

/**
 * The DOCTYPE and the spacing are Asterisk's, byte for byte where legacy phones may match text (nothing fetches the
 * DTD). `digium` does not apply: the format has no place for it. Pure and cheap like buildPidf.
 */
export function buildXpidf(input: PidfInput): string {
  const { status, substatus } = xpidfStatus(input);
  const entity = xmlValue(input.entity);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE presence PUBLIC "-//IETF//DTD RFCxxxx XPIDF 1.0//EN" "xpidf.dtd">',
    '<presence>',
    `<presentity uri="${entity};method=SUBSCRIBE" />`,
    `<atom id="${xmlValue(input.tupleId)}">`,
    `<address uri="${entity};user=ip" priority="0.800000">`,
    `<status status="${status}" />`,
    `<msnsubstatus substatus="${substatus}" />`,
    '</address>',
    '</atom>',
    '</presence>',
    '',
  ].join('\n');
}
