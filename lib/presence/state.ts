/**
 * Presence states and the value syntax of Asterisk's PRESENCE_STATE() / `presencestate change`
 * (func_presencestate.c).
 */

import { ERRORS, PresencedError } from '../errors.js';

export const PRESENCE_STATES = ['not_set', 'unavailable', 'available', 'away', 'xa', 'chat', 'dnd'] as const;
export type PresenceStateName = typeof PRESENCE_STATES[number];

export interface PresenceState {
  state: PresenceStateName;
  subtype: string;
  message: string;
}

export const NOT_SET: PresenceState = Object.freeze({ state: 'not_set', subtype: '', message: '' });

/** Thrown for bad user input; the message is shown to the user as is (CLI, AMI, logs). */
export class PresenceError extends PresencedError {
  override name = 'PresenceError';

  constructor(message: string) {
    super(ERRORS.INVALID_VALUE, message);
  }
}

const STATE_BY_LOWER_NAME = new Map<string, PresenceStateName>(PRESENCE_STATES.map((name) => [name, name]));
const EXPECTED_STATES = `expected one of: ${PRESENCE_STATES.join(', ')}`;

/** Case-insensitive, like Asterisk's ast_presence_state_val(). */
export function parseStateName(text: string): PresenceStateName | undefined {
  return STATE_BY_LOWER_NAME.get(text.toLowerCase());
}

/** Exactly one of the state names (as stored: lower case). */
export function isStateName(value: unknown): value is PresenceStateName {
  return typeof value === 'string' && STATE_BY_LOWER_NAME.get(value) === value;
}

// C0 controls (tab, CR and LF included) and DEL: never meaningful in a one-line status text, and they could
// break XML bodies, AMI framing or the admin's terminal.
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F]/g;

export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

export interface PresenceValue {
  state: PresenceState;
  /** The state part as typed, e.g. 'UNAVAILABLE' (Asterisk echoes it back in "Changing x to y"). */
  stateText: string;
  /** The value carried the 'e' option: subtype and message were given base64-encoded. */
  base64: boolean;
}

/**
 * Parses `state[,subtype[,message[,options]]]` with the rules of Asterisk's parse_data():
 * the state is required and case-insensitive, and anything after a fourth comma is ignored.
 * Stricter than Asterisk where Asterisk silently accepts garbage: options may only contain 'e'
 * (Asterisk accepts any string containing an 'e'), and invalid base64 is an error.
 * Unlike Asterisk's CLI, `not_set` is accepted: it is the way to clear a presence.
 */
export function parsePresenceValue(value: string): PresenceValue {
  const [stateText = '', subtype = '', message = '', options = ''] = value.split(',', 4);
  const state = checkedStateName(stateText);
  if (!/^e*$/.test(options)) {
    throw new PresenceError(`Invalid options '${options}' (only 'e' is supported)`);
  }
  const base64 = options !== '';
  return {
    state: presenceState(state, base64 ? decodeBase64(subtype, 'subtype') : subtype, base64 ? decodeBase64(message, 'message') : message),
    stateText,
    base64,
  };
}

/** The state part of a value (CLI, AMI, HTTP), case-insensitive; a PresenceError names what was expected. */
export function checkedStateName(stateText: string): PresenceStateName {
  if (stateText === '') {
    throw new PresenceError(`Missing presence state (${EXPECTED_STATES})`);
  }
  const state = parseStateName(stateText);
  if (state === undefined) {
    throw new PresenceError(`Unknown presence state '${stateText}' (${EXPECTED_STATES})`);
  }
  return state;
}

/** A state as stored and sent: subtype and message without control characters. */
export function presenceState(state: PresenceStateName, subtype: string, message: string): PresenceState {
  return { state, subtype: stripControlCharacters(subtype), message: stripControlCharacters(message) };
}

const BASE64_BODY = /^[A-Za-z0-9+/]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict RFC 4648 base64 (padding optional, as some encoders drop it); the bytes must be UTF-8 text. */
function decodeBase64(encoded: string, field: 'subtype' | 'message'): string {
  const body = encoded.replace(/={1,2}$/, '');
  const padded = body.length !== encoded.length;
  if (!BASE64_BODY.test(body) || body.length % 4 === 1 || (padded && encoded.length % 4 !== 0)) {
    throw new PresenceError(`Invalid base64 in ${field} '${encoded}'`);
  }
  try {
    return UTF8.decode(Buffer.from(body, 'base64'));
  } catch {
    throw new PresenceError(`The base64 ${field} '${encoded}' does not decode to UTF-8 text`);
  }
}

const CUSTOM_PRESENCE_PREFIX = 'custompresence:';

/** 'CustomPresence:6002' → '6002' (prefix case-insensitive, as Asterisk's strncasecmp). */
export function customPresenceName(entity: string): string {
  if (entity.slice(0, CUSTOM_PRESENCE_PREFIX.length).toLowerCase() !== CUSTOM_PRESENCE_PREFIX) {
    throw new PresenceError("The presencestate command can only be used to set 'CustomPresence:' presence state!");
  }
  const name = entity.slice(CUSTOM_PRESENCE_PREFIX.length);
  if (name === '') {
    throw new PresenceError("Missing custom presence name after 'CustomPresence:'");
  }
  return name;
}

export function sameState(a: PresenceState, b: PresenceState): boolean {
  return a.state === b.state && a.subtype === b.subtype && a.message === b.message;
}
