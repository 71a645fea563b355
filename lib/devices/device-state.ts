/**
 * Device states and extension states with Asterisk's names and rules (devicestate.h, devicestate.c
 * ast_devstate_aggregate_add, pbx.c ast_devstate_to_extenstate and ast_extension_state2str). Table: docs/BLF.md.
 */
import { ERRORS, PresencedError } from '../errors.js';

export const DEVICE_STATES = ['UNKNOWN', 'NOT_INUSE', 'INUSE', 'BUSY', 'INVALID', 'UNAVAILABLE', 'RINGING', 'RINGINUSE', 'ONHOLD'] as const;
export type DeviceState = typeof DEVICE_STATES[number];

/** What a hint's devices add up to, as `core show hints` and AMI ExtensionStatus name it. */
export const EXTENSION_STATES = ['Idle', 'InUse', 'Busy', 'Unavailable', 'Ringing', 'InUse&Ringing', 'Hold'] as const;
export type ExtensionState = typeof EXTENSION_STATES[number];

/** Thrown for a bad device name or state; the message is meant for the user (CLI, AMI). */
export class DeviceStateError extends PresencedError {
  override name = 'DeviceStateError';

  constructor(message: string) {
    super(ERRORS.INVALID_VALUE, message);
  }
}

const BY_UPPER_NAME = new Map<string, DeviceState>(DEVICE_STATES.map((state) => [state, state]));

/** Case-insensitive, like ast_devstate_val. */
export function parseDeviceState(text: string): DeviceState | undefined {
  return BY_UPPER_NAME.get(text.toUpperCase());
}

export const CUSTOM_DEVICE = 'Custom:';

/** 'custom:2000' → 'Custom:2000' (the prefix is case-insensitive, as Asterisk's strncasecmp); others unchanged. */
export function deviceKey(device: string): string {
  return isCustomDevice(device) ? CUSTOM_DEVICE + device.slice(CUSTOM_DEVICE.length) : device;
}

export function isCustomDevice(device: string): boolean {
  return device.slice(0, CUSTOM_DEVICE.length).toLowerCase() === CUSTOM_DEVICE.toLowerCase();
}

/**
 * `devicestate change Custom:2000 INUSE` validated as func_devstate.c does it, with clearer words:
 * only `Custom:` devices, a name, and a known state. Returns the name without the prefix and the state.
 */
export function parseCustomChange(device: string, stateText: string): { name: string; state: DeviceState } {
  if (!isCustomDevice(device)) {
    throw new DeviceStateError("The devstate command can only be used to set 'Custom:' device state!");
  }
  const name = device.slice(CUSTOM_DEVICE.length);
  if (name.trim() === '') throw new DeviceStateError("Missing custom device name after 'Custom:'");
  if (/[\u0000-\u001F\u007F&,]/.test(name)) {
    throw new DeviceStateError(`Invalid custom device name '${name.replace(/[\u0000-\u001F\u007F]/g, '')}' (no control characters, '&' or ',')`);
  }
  const state = parseDeviceState(stateText);
  if (state === undefined) {
    throw new DeviceStateError(`Unknown device state '${stateText}' (expected one of: ${DEVICE_STATES.join(', ')})`);
  }
  return { name, state };
}

/**
 * ast_devstate_aggregate_add's order: the highest ranked state of the devices wins, except that any RINGING together
 * with any INUSE, BUSY or ONHOLD makes RINGINUSE. So one idle device beats unavailable ones (a hint is Unavailable
 * only when all its devices are), and BUSY beats INUSE.
 */
const RANK: Readonly<Record<DeviceState, number>> = {
  INVALID: 0, UNKNOWN: 1, UNAVAILABLE: 2, NOT_INUSE: 3, ONHOLD: 4, RINGING: 5, INUSE: 6, BUSY: 7, RINGINUSE: 8,
};

/** The combined state of a hint's devices; a hint without devices is NOT_INUSE (its lamp is idle, not broken). */
export function aggregateDeviceStates(states: Iterable<DeviceState>): DeviceState {
  let combined: DeviceState | undefined;
  let ringing = false;
  let inUse = false;
  for (const state of states) {
    if (state === 'RINGING') ringing = true;
    else if (state === 'INUSE' || state === 'ONHOLD' || state === 'BUSY') inUse = true;
    if (ringing && inUse) combined = 'RINGINUSE';
    else if (combined === undefined || RANK[state] > RANK[combined]) combined = state;
  }
  return combined ?? 'NOT_INUSE';
}

/** ast_devstate_to_extenstate, named as ast_extension_state2str names it. */
export function extensionStateOf(device: DeviceState): ExtensionState {
  switch (device) {
    case 'ONHOLD': return 'Hold';
    case 'BUSY': return 'Busy';
    case 'UNAVAILABLE':
    case 'INVALID': return 'Unavailable';
    case 'RINGINUSE': return 'InUse&Ringing';
    case 'RINGING': return 'Ringing';
    case 'INUSE': return 'InUse';
    case 'UNKNOWN':
    case 'NOT_INUSE': return 'Idle';
  }
}
