/**
 * The AMI events presenced raises, field for field as Asterisk writes them: PresenceStateChange for every change of
 * a presence provider (presencestate.c presence_state_to_ami), PresenceStatus for every hint whose presence part is
 * that provider (manager.c manager_state_cb), DeviceStateChange for every device change and ExtensionStatus for
 * every hint whose extension state it changes.
 */
import type { Dialplan, Hint } from '../../presence/hints.js';
import type { PresenceState } from '../../presence/state.js';
import { deviceKey } from '../../devices/device-state.js';
import { formatBlock, type AmiFields } from './ami-protocol.js';
import { AMI_CLASSES, classNames } from './ami-permissions.js';

/** An event ready for the wire, and the class a session must read (and not have filtered out) to get it. */
export interface AmiEvent {
  category: number;
  text: string;
}

export interface EventHeaderOptions {
  /** `timestampevents = yes`: a Timestamp header after Privilege. */
  timestamp: boolean;
}

/** `Event`, `Privilege` (and `Timestamp`) headers, then the fields: an event as every session receives it. */
export function buildEvent(name: string, category: number, fields: AmiFields, options: EventHeaderOptions): AmiEvent {
  const header: AmiFields = [['Event', name], ['Privilege', classNames(category)]];
  const timestamp: AmiFields = options.timestamp ? [['Timestamp', amiTimestamp(Date.now())]] : [];
  return { category, text: formatBlock([...header, ...timestamp, ...fields]) };
}

/** `seconds.microseconds`, as in Ping responses and Timestamp headers. */
export function amiTimestamp(milliseconds: number): string {
  return `${Math.floor(milliseconds / 1000)}.${String((milliseconds % 1000) * 1000).padStart(6, '0')}`;
}

/**
 * PresenceStateChange's fields, also used for the items of PresenceStateList. Asterisk writes Subtype and Message
 * through ast_escape_c, so a quote arrives as \' and a backslash as \\; clients written for Asterisk unescape them.
 */
export function presenceStateChangeFields(provider: string, state: PresenceState): AmiFields {
  return [
    ['Presentity', provider],
    ['Status', state.state],
    ['Subtype', escapeC(state.subtype)],
    ['Message', escapeC(state.message)],
  ];
}

export function presenceStateChangeEvent(provider: string, state: PresenceState, options: EventHeaderOptions): AmiEvent {
  return buildEvent('PresenceStateChange', AMI_CLASSES.call, presenceStateChangeFields(provider, state), options);
}

/** ExtensionState's numeric Status for a state name (pbx.c extension_state_mappings). */
const EXTENSION_STATUS: ReadonlyMap<string, number> = new Map([
  ['Idle', 0], ['InUse', 1], ['Busy', 2], ['Unavailable', 4], ['Ringing', 8], ['InUse&Ringing', 9], ['Hold', 16], ['InUse&Hold', 17],
]);

/** ExtensionState's Status for a state name; -1 for anything else (Asterisk's AST_EXTENSION_NOT_INUSE… unknown). */
export function extensionStatus(stateName: string): number {
  return EXTENSION_STATUS.get(stateName) ?? -1;
}

/** The fields of ExtensionStatus events and of the ExtensionState response (manager.c manager_state_cb). */
export function extensionStatusFields(hint: { exten: string; context: string; hint: string }, stateText: string): AmiFields {
  return [
    ['Exten', hint.exten],
    ['Context', hint.context],
    ['Hint', hint.hint],
    ['Status', String(extensionStatus(stateText))],
    ['StatusText', stateText],
  ];
}

/** DeviceStateChange's fields (devicestate.c devstate_to_ami), also the items of DeviceStateList. */
export function deviceStateChangeFields(device: string, state: string): AmiFields {
  return [['Device', device], ['State', state]];
}

export function deviceStateChangeEvent(device: string, state: string, options: EventHeaderOptions): AmiEvent {
  return buildEvent('DeviceStateChange', AMI_CLASSES.call, deviceStateChangeFields(device, state), options);
}

export function extensionStatusEvent(hint: Hint, stateText: string, options: EventHeaderOptions): AmiEvent {
  return buildEvent('ExtensionStatus', AMI_CLASSES.call, extensionStatusFields({ exten: hint.exten, context: hint.context, hint: hint.text }, stateText), options);
}

/** One PresenceStatus per concrete hint of `dialplan` whose presence provider is `provider`. */
export function presenceStatusEvents(dialplan: Dialplan, provider: string, state: PresenceState, options: EventHeaderOptions): AmiEvent[] {
  return hintsUsing(dialplan, provider).map((hint) => buildEvent('PresenceStatus', AMI_CLASSES.call, [
    ['Exten', hint.exten],
    ['Context', hint.context],
    ['Hint', hint.text],
    ['Status', state.state],
    ['Subtype', state.subtype],
    ['Message', state.message],
  ], options));
}

/** Hints by presence provider, built once per dialplan: a change must not scan every hint. */
const hintIndexes = new WeakMap<Dialplan, Map<string, Hint[]>>();

/**
 * The hints whose presence part is `provider`. Pattern hints are left out: like Asterisk, they stand for
 * extensions that only exist once someone subscribes to them.
 */
export function hintsUsing(dialplan: Dialplan, provider: string): Hint[] {
  let index = hintIndexes.get(dialplan);
  if (!index) {
    index = new Map();
    for (const hint of dialplan.hints) {
      if (hint.presence === undefined || isPattern(hint)) continue;
      const list = index.get(hint.presence);
      if (list) list.push(hint);
      else index.set(hint.presence, [hint]);
    }
    hintIndexes.set(dialplan, index);
  }
  return index.get(provider) ?? [];
}

/** Hints by device key, built once per dialplan. */
const deviceIndexes = new WeakMap<Dialplan, Map<string, Hint[]>>();

/**
 * The concrete hints whose devices include `device` (a device key: 'Custom:2000', 'PJSIP/2000', 'Dialog:2000@default'
 * when `devicesOf` adds the devices of sources: DeviceService.devicesOf).
 */
export function hintsWithDevice(dialplan: Dialplan, device: string, devicesOf: (hint: Hint) => readonly string[] = (hint) => hint.devices): Hint[] {
  let index = deviceIndexes.get(dialplan);
  if (!index) {
    index = new Map();
    for (const hint of dialplan.hints) {
      if (isPattern(hint)) continue;
      for (const key of new Set(devicesOf(hint).map(deviceKey))) {
        const list = index.get(key);
        if (list) list.push(hint);
        else index.set(key, [hint]);
      }
    }
    deviceIndexes.set(dialplan, index);
  }
  return index.get(device) ?? [];
}

/** A pattern hint (`_6XXX`), by its extension. */
export function isPattern(hint: { exten: string }): boolean {
  return hint.exten.startsWith('_');
}

const C_ESCAPES: Record<string, string> = {
  '\u0007': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v', '\\': '\\', "'": "'", '"': '"', '?': '?',
};

/** Asterisk's ast_escape_c. */
export function escapeC(text: string): string {
  return text.replace(/[\u0007\b\f\n\r\t\v\\'"?]/g, (char) => `\\${C_ESCAPES[char]}`);
}
