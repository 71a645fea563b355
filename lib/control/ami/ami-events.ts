/**
 * The AMI events presenced raises, field for field as Asterisk writes them: PresenceStateChange for every change of
 * a presence provider (presencestate.c presence_state_to_ami), PresenceStatus for every hint whose presence part is
 * that provider (manager.c manager_state_cb).
 */
import type { Dialplan, Hint } from '../../presence/hints.js';
import type { PresenceState } from '../../presence/state.js';
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
