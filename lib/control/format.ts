/**
 * Text output of the CLI. Multi-line results are complete outputs: every line, the last included, ends
 * with '\n', so front ends write them as they are.
 */
import { stripControlCharacters, type PresenceStateName } from '../presence/state.js';

export interface PresenceListRow {
  /** '6002', without the 'CustomPresence:' prefix. */
  name: string;
  state: PresenceStateName;
  subtype: string;
  message: string;
  base64: boolean;
}

const RULE = '---------------------------------------------------------------------\n';

/**
 * `presencestate list` as Asterisk prints it (func_presencestate.c, handle_cli_presencestate_list), in
 * name order like Asterisk's astdb. Asterisk shows base64 values as stored, i.e. still encoded, so they
 * are re-encoded here.
 */
export function formatPresenceList(rows: PresenceListRow[]): string {
  const header = `\n${RULE}--- Custom Presence States ------------------------------------------\n${RULE}---\n`;
  if (rows.length === 0) {
    return `${header}No custom presence states defined\n`;
  }
  const entries = [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((row) => {
    const shown = (text: string) => (row.base64 ? Buffer.from(text, 'utf8').toString('base64') : text);
    return `--- Name: 'CustomPresence:${printable(row.name)}'\n` +
      `    --- State: '${row.state}'\n` +
      `    --- Subtype: '${printable(shown(row.subtype))}'\n` +
      `    --- Message: '${printable(shown(row.message))}'\n` +
      `    --- Base64 Encoded: '${row.base64 ? 'Yes' : 'No'}'\n` +
      '---\n';
  });
  return `${header}${entries.join('')}${RULE}${RULE}\n`;
}

export interface DeviceListRow {
  /** 'Custom:2000' */
  device: string;
  state: string;
}

/** `devicestate list` as Asterisk prints it (func_devstate.c, handle_cli_devstate_list). */
export function formatDeviceList(rows: DeviceListRow[]): string {
  const header = `\n${RULE}--- Custom Device States --------------------------------------------\n${RULE}---\n`;
  const entries = rows.map((row) => `--- Name: '${printable(row.device)}'  State: '${row.state}'\n---\n`);
  return `${header}${entries.join('')}${RULE}${RULE}\n`;
}

/** `presencestate change` confirmation, one line without '\n': "Changing 6002 to UNAVAILABLE". */
export function formatChange(name: string, stateText: string): string {
  return `Changing ${printable(name)} to ${printable(stateText)}`;
}

export interface HintRow {
  exten: string;
  context: string;
  /** The hint text as configured, e.g. 'SIP/6002,CustomPresence:6002'. */
  hint: string;
  /** Extension state name as Asterisk prints it, e.g. 'Idle'. */
  deviceState: string;
  presence: PresenceStateName;
  watchers: number;
}

/**
 * `core show hints` as Asterisk prints it (pbx.c, handle_show_hints), including its fixed-width,
 * truncating columns ("%-20.20s: %-20.20s  State:%-15.15s Presence:%-15.15s Watchers %2d").
 */
export function formatHints(rows: HintRow[]): string {
  if (rows.length === 0) {
    return 'There are no registered dialplan hints\n';
  }
  const lines = rows.map((row) =>
    `${fixedWidth(`${row.exten}@${row.context}`, 20)}: ${fixedWidth(row.hint, 20)}  ` +
    `State:${fixedWidth(row.deviceState, 15)} Presence:${fixedWidth(row.presence, 15)} ` +
    `Watchers ${String(row.watchers).padStart(2)}\n`);
  return `\n    -= Registered Asterisk Dial Plan Hints =-\n${lines.join('')}----------------\n` +
    `- ${rows.length} hints registered\n`;
}

export interface SubscriptionRow {
  /** '6002@default' */
  resource: string;
  /** The watcher's From URI. */
  watcher: string;
  userAgent: string;
  /** e.g. 'UDP 127.0.0.1:5090' */
  transport: string;
  /** Seconds until the subscription expires. */
  expiresIn: number;
}

const SUBSCRIPTION_HEADER = ['Resource', 'Watcher', 'User-Agent', 'Transport', 'Expires'];

/** A label and its value, as `presencestate stats` prints them. */
export type StatsRow = [label: string, value: string];

/** `Label: value` lines with the values aligned. */
export function formatStats(rows: StatsRow[]): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}\n`).join('');
}

/** One line per subscription under a header line, columns aligned (Expires right-aligned), then a count. */
export function formatSubscriptions(rows: SubscriptionRow[]): string {
  const table = [SUBSCRIPTION_HEADER, ...rows.map((row) => [
    printable(row.resource), printable(row.watcher), printable(row.userAgent), printable(row.transport),
    String(Math.max(0, Math.floor(row.expiresIn))),
  ])];
  const widths = SUBSCRIPTION_HEADER.map((_, column) => Math.max(...table.map((cells) => displayLength(cells[column]!))));
  const expiresColumn = SUBSCRIPTION_HEADER.length - 1;
  const lines = table.map((cells) => cells.map((cell, column) => column === expiresColumn
    ? ' '.repeat(widths[column]! - displayLength(cell)) + cell
    : cell + ' '.repeat(widths[column]! - displayLength(cell))).join('  '));
  const count = `${rows.length} active ${rows.length === 1 ? 'subscription' : 'subscriptions'}`;
  return `${lines.join('\n')}\n${count}\n`;
}

/** Values can come from the network (User-Agent, URIs): no control character reaches the terminal. */
function printable(text: string): string {
  return stripControlCharacters(text);
}

/** Length in code points, so that an emoji counts once (printf counts bytes; code points are closer to columns). */
function displayLength(text: string): number {
  return Array.from(text).length;
}

/** printf's %-N.Ns: left-aligned in N columns, truncated to N, counted in code points. */
function fixedWidth(text: string, width: number): string {
  const codePoints = Array.from(printable(text)).slice(0, width);
  return codePoints.join('') + ' '.repeat(width - codePoints.length);
}
