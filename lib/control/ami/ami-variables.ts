/**
 * The dialplan functions AMI's Getvar and Setvar reach here: DEVICE_STATE (func_devstate.c: `DEVICE_STATE(<device>)`
 * reads any device, sets `Custom:` ones) and PRESENCE_STATE (func_presencestate.c).
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

export type StateFunction = 'PRESENCE_STATE' | 'DEVICE_STATE';

/** Which function a variable calls and its argument text; any other variable or function is an error. */
export function stateFunction(variable: string): { name: StateFunction; args: string } {
  const call = FUNCTION_CALL.exec(variable);
  const name = call?.[1].toUpperCase();
  if (!call || (name !== 'PRESENCE_STATE' && name !== 'DEVICE_STATE')) {
    throw new PresenceError(`Unsupported variable '${variable}': only PRESENCE_STATE(<provider>) and DEVICE_STATE(<device>) are available`);
  }
  return { name, args: call[2] };
}

function presenceArguments(variable: string): string {
  const call = stateFunction(variable);
  if (call.name !== 'PRESENCE_STATE') throw new PresenceError(`Unsupported variable '${variable}': PRESENCE_STATE(<provider>) expected`);
  return call.args;
}

/** The device of `DEVICE_STATE(<device>)`, for reading or setting. */
export function parseDeviceArgument(args: string): string {
  const device = args.trim();
  if (device === '') throw new PresenceError('DEVICE_STATE needs a device');
  if (device.includes(',')) throw new PresenceError('DEVICE_STATE takes only the device');
  return device;
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
