/**
 * The one dialplan function AMI's Getvar and Setvar reach here: PRESENCE_STATE (func_presencestate.c).
 * Reading: `PRESENCE_STATE(<provider>[,value|subtype|message[,e]])` (the field defaults to value; `e` returns subtype
 * and message base64-encoded). Writing: `PRESENCE_STATE(CustomPresence:<name>)` with the value syntax of the CLI.
 * Stricter than Asterisk, which logs a warning and reads an empty string: a malformed call is an error.
 */
import { PresenceError, type PresenceState } from '../../presence/state.js';

export const PRESENCE_FIELDS = ['value', 'subtype', 'message'] as const;
export type PresenceField = typeof PRESENCE_FIELDS[number];

export interface PresenceRead {
  provider: string;
  field: PresenceField;
  base64: boolean;
}

const FUNCTION_CALL = /^([A-Za-z_][A-Za-z0-9_]*)\((.*)\)$/s;

/** The argument text of `PRESENCE_STATE(...)`; any other variable or function is an error. */
function presenceArguments(variable: string): string {
  const call = FUNCTION_CALL.exec(variable);
  if (!call || call[1].toUpperCase() !== 'PRESENCE_STATE') {
    throw new PresenceError(`Unsupported variable '${variable}': only PRESENCE_STATE(<provider>) is available`);
  }
  return call[2];
}

export function parsePresenceRead(variable: string): PresenceRead {
  const [provider = '', field = 'value', options = '', ...extra] = presenceArguments(variable).split(',').map((part) => part.trim());
  if (provider === '') throw new PresenceError('PRESENCE_STATE needs a presence provider');
  const fieldName = (field === '' ? 'value' : field.toLowerCase()) as PresenceField;
  if (!PRESENCE_FIELDS.includes(fieldName)) {
    throw new PresenceError(`Unknown PRESENCE_STATE field '${field}' (expected one of: ${PRESENCE_FIELDS.join(', ')})`);
  }
  if (!/^e*$/.test(options) || extra.length > 0) {
    throw new PresenceError(`Invalid PRESENCE_STATE options '${[options, ...extra].join(',')}' (only 'e' is supported)`);
  }
  return { provider, field: fieldName, base64: options !== '' };
}

/** The provider a Setvar names; a field is meaningless when setting and refused. */
export function parsePresenceWrite(variable: string): string {
  const provider = presenceArguments(variable).trim();
  if (provider.includes(',')) throw new PresenceError('PRESENCE_STATE takes only the provider when it is set');
  return provider;
}

/** What a PRESENCE_STATE read returns for `state`. */
export function readPresenceField(state: PresenceState, read: PresenceRead): string {
  if (read.field === 'value') return state.state;
  const text = state[read.field];
  return read.base64 ? Buffer.from(text, 'utf8').toString('base64') : text;
}
