/**
 * RFC 3863 PIDF bodies (application/pidf+xml) for a hint, with an RFC 4479 person carrying the RFC 4480 RPID
 * activity of the presence state. The reader is lib/presence/pidf-reader.ts.
 * Layout, the basic/note table and the activity table: docs/PIDF.md.
 */
import type { ExtensionState } from '../devices/device-state.js';
import { stripControlCharacters, type PresenceState, type PresenceStateName } from './state.js';

export interface PidfInput {
  /** Presentity URI, e.g. 'sip:6002@example.com': the entity AND the tuple <contact>. */
  entity: string;
  /** The hint's extension, e.g. '6002'. */
  tupleId: string;
  /** The hint names a device. */
  hasDevice: boolean;
  /** What the hint's devices add up to (DeviceService.extensionState); Idle when absent. */
  device?: ExtensionState;
  presence: PresenceState;
  /** Add the digium_presence tuple (decided by wantsDigiumTuple). */
  digium: boolean;
}

/** Who gets the digium_presence tuple: Digium/Sangoma user agents only, every watcher, or none. */
export const DIGIUM_MODES = ['auto', 'always', 'never'] as const;
export type DigiumMode = typeof DIGIUM_MODES[number];

export function isDigiumUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && /digium|sangoma/i.test(userAgent);
}

/** PidfInput.digium for a watcher with this User-Agent. */
export function wantsDigiumTuple(mode: DigiumMode, userAgent: string | undefined): boolean {
  return mode === 'always' || (mode === 'auto' && isDigiumUserAgent(userAgent));
}

/** Note for a presence-only hint without a message. */
const PRESENCE_LABELS: Record<PresenceStateName, string> = {
  not_set: 'Offline',
  unavailable: 'Unavailable',
  available: 'Available',
  chat: 'Available for chat',
  away: 'Away',
  xa: 'Extended away',
  dnd: 'Do not disturb',
};

/** The note of a device hint and whether it is on the phone, as Asterisk's ast_sip_presence_exten_state_to_str. */
const DEVICE_NOTES: Readonly<Record<ExtensionState, string>> = {
  Idle: 'Ready',
  InUse: 'On the phone',
  Busy: 'On the phone',
  Unavailable: 'Unavailable',
  Ringing: 'Ringing',
  'InUse&Ringing': 'Ringing',
  Hold: 'On hold',
};

const ON_THE_PHONE: ReadonlySet<ExtensionState> = new Set<ExtensionState>(['InUse', 'Busy', 'Ringing', 'InUse&Ringing', 'Hold']);

/** Presence states with no activity of their own: while the devices are in use, "On the phone" shows instead. */
const DEVICE_SPEAKS_FOR: ReadonlySet<PresenceStateName> = new Set<PresenceStateName>(['not_set', 'available', 'chat']);

/** The device hint is on the phone and the presence state leaves the person's activity to the device. */
function onThePhone(device: ExtensionState, presence: PresenceState): boolean {
  return ON_THE_PHONE.has(device) && DEVICE_SPEAKS_FOR.has(presence.state);
}

/**
 * | hint          | basic                                               | note                                     |
 * |---------------|-----------------------------------------------------|------------------------------------------|
 * | with a device | closed when Busy or Unavailable (as Asterisk), else | on the phone: the device note ("On the   |
 * |               | open                                                | phone", "Ringing", "On hold"); else the  |
 * |               |                                                     | message, else the device note ("Ready")  |
 * | presence only | closed for not_set and unavailable, open for the    | message, else the state label            |
 * |               | rest (dnd too: busy is still open, as chan_sip)     | (PRESENCE_LABELS)                        |
 * The combined table: docs/PIDF.md.
 */
export function basicAndNote(hasDevice: boolean, presence: PresenceState, device: ExtensionState = 'Idle'): { basic: 'open' | 'closed'; note: string } {
  if (hasDevice) {
    const basic = device === 'Busy' || device === 'Unavailable' ? 'closed' : 'open';
    return { basic, note: onThePhone(device, presence) ? DEVICE_NOTES[device] : presence.message || DEVICE_NOTES[device] };
  }
  const closed = presence.state === 'not_set' || presence.state === 'unavailable';
  return { basic: closed ? 'closed' : 'open', note: presence.message || PRESENCE_LABELS[presence.state] };
}

/** The RFC 4480 section 3.2 activities our states map to. */
export type RpidActivity = 'away' | 'busy' | 'on-the-phone';

/**
 * Only states that say what the person is doing get an activity: RFC 4480 has none for "available" or "chat", and
 * not_set and unavailable say nothing about an activity (the basic carries them). xa is "away for long", not the
 * scheduled absence of <vacation/>, so it is <away/> as well; the note tells the two apart.
 */
export const RPID_ACTIVITIES: Readonly<Record<PresenceStateName, RpidActivity | undefined>> = {
  not_set: undefined,
  unavailable: undefined,
  available: undefined,
  chat: undefined,
  away: 'away',
  xa: 'away',
  dnd: 'busy',
};

/** The person's activity: the presence state's own, or `on-the-phone` while the devices are in use (see onThePhone). */
export function activityOf(input: Pick<PidfInput, 'hasDevice' | 'device' | 'presence'>): RpidActivity | undefined {
  if (input.hasDevice && onThePhone(input.device ?? 'Idle', input.presence)) return 'on-the-phone';
  return RPID_ACTIVITIES[input.presence.state];
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes the five XML specials (the same set as fast-xml-parser's XMLBuilder) after dropping control characters. */
export function xmlValue(text: string): string {
  return stripControlCharacters(text).replace(/[&<>"']/g, (special) => XML_ESCAPES[special]!);
}

/**
 * The prefixes are the ones clients match literally: PIDF is the default namespace (pjsip looks up `tuple`,
 * `status` and `basic` by name, baresip greps `<basic>`), RPID is `rpid:` (baresip greps `<rpid:away/>` and
 * `<rpid:busy/>`), the data model `dm:` (what linphone and pjsip write; pjsip reads `dm:person` by suffix).
 */
const PRESENCE_START = '<presence xmlns="urn:ietf:params:xml:ns:pidf"' +
  ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"';

/** One person per document, so a constant id (an xs:ID: RFC 4479 section 6.1 requires one). */
const PERSON_ID = 'person';

/**
 * Built from a template rather than with XMLBuilder: the one-element-per-line layout (with
 * `<status><basic>…</basic></status>` on one line) is not something XMLBuilder can print, and the template is about
 * ten times faster. The tests read every golden body back and validate every body against fixtures/schema.
 * Element order follows the schemas: in <presence> the <tuple>s, then <note>, then extensions (<dm:person>,
 * RFC 3863 section 4.4); in <tuple> <status>, then <contact>; in <dm:person> <rpid:activities>, then <dm:note>
 * (RFC 4479 section 6.1). The extension's tuple comes first because baresip reads the first <basic>.
 * The message is both the document <note> (pjsip's fallback, Asterisk's place) and the person's <dm:note>
 * (linphone and pjsip read the person's note first).
 */
export function buildPidf(input: PidfInput): string {
  const { basic, note } = basicAndNote(input.hasDevice, input.presence, input.device);
  const entity = xmlValue(input.entity);
  const escapedNote = xmlValue(note);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `${PRESENCE_START} entity="${entity}">`,
    `<tuple id="${xmlValue(input.tupleId)}">`,
    `<status><basic>${basic}</basic></status>`,
    `<contact priority="1">${entity}</contact>`,
    '</tuple>',
  ];
  if (input.digium && input.presence.state !== 'not_set') {
    lines.push(...digiumTuple(input.presence));
  }
  lines.push(`<note>${escapedNote}</note>`, `<dm:person id="${PERSON_ID}">`);
  const activity = activityOf(input);
  if (activity !== undefined) {
    lines.push(`<rpid:activities><rpid:${activity}/></rpid:activities>`);
  }
  lines.push(`<dm:note>${escapedNote}</dm:note>`, '</dm:person>', '</presence>', '');
  return lines.join('\n');
}

/** The tuple Asterisk's res_pjsip_pidf_digium_body_supplement adds for Digium phones. */
function digiumTuple({ state, subtype, message }: PresenceState): string[] {
  const subtypeAttribute = subtype === '' ? '' : ` subtype="${xmlValue(subtype)}"`;
  return [
    '<tuple id="digium-presence">',
    `<status><digium_presence type="${state}"${subtypeAttribute}>${xmlValue(message)}</digium_presence></status>`,
    '</tuple>',
  ];
}
