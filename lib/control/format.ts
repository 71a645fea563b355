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
  /** Where the effective state comes from: the CLI/AMI/HTTP setting or a live PUBLISH (its publisher and entity-tag). */
  source: 'setting' | 'publication';
  publisher?: string;
  etag?: string;
}

const RULE = '---------------------------------------------------------------------\n';

/**
 * `presencestate list` as Asterisk prints it (func_presencestate.c, handle_cli_presencestate_list), in
 * name order like Asterisk's astdb, plus a Source line: the state shown is the effective one, which a phone's
 * PUBLISH may have set. Asterisk shows base64 values as stored, i.e. still encoded, so they are re-encoded here.
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
      `    --- Source: '${row.source === 'publication' ? `PUBLISH ${printable(row.etag ?? '')} from ${printable(row.publisher ?? '')}` : 'CLI/AMI'}'\n` +
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
  return `\n    -= Registered Asterisk Dial Plan Hints =-\n${rows.map(hintLine).join('')}----------------\n` +
    `- ${rows.length} hints registered\n`;
}

/** `core show hint EXTEN` as Asterisk prints it (pbx.c, handle_show_hint): the lines, then the count. */
export function formatMatchingHints(rows: HintRow[], exten: string): string {
  return `${rows.map(hintLine).join('')}${rows.length} hint${rows.length === 1 ? '' : 's'} matching extension ${printable(exten)}\n`;
}

function hintLine(row: HintRow): string {
  return `${fixedWidth(`${row.exten}@${row.context}`, 20)}: ${fixedWidth(row.hint, 20)}  ` +
    `State:${fixedWidth(row.deviceState, 15)} Presence:${fixedWidth(row.presence, 15)} ` +
    `Watchers ${String(row.watchers).padStart(2)}\n`;
}

export interface SubscriptionRow {
  /** Our dialog tag: what `subscription kick` takes. */
  id: string;
  /** '6002@default' */
  resource: string;
  /** The event package: 'presence', 'dialog'. */
  event: string;
  /** The watcher's From URI. */
  watcher: string;
  userAgent: string;
  /** e.g. 'UDP 127.0.0.1:5090' */
  transport: string;
  /** Seconds until the subscription expires. */
  expiresIn: number;
}

const SUBSCRIPTION_HEADER = ['ID', 'Resource', 'Event', 'Watcher', 'User-Agent', 'Transport', 'Expires'];

/** A label and its value, as `presencestate stats` prints them. */
export type StatsRow = [label: string, value: string];

/** `Label: value` lines with the values aligned. */
export function formatStats(rows: StatsRow[]): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}\n`).join('');
}

/** One line per subscription under a header line, columns aligned (Expires right-aligned), then a count. */
export function formatSubscriptions(rows: SubscriptionRow[]): string {
  const cells = rows.map((row) => [row.id, row.resource, row.event, row.watcher, row.userAgent, row.transport, seconds(row.expiresIn)]);
  return formatTable(SUBSCRIPTION_HEADER, cells) + `${rows.length} active ${rows.length === 1 ? 'subscription' : 'subscriptions'}\n`;
}

export interface PublicationRow {
  /** The entity-tag: what `publication remove` takes. */
  etag: string;
  /** 'CustomPresence:6002' */
  entity: string;
  state: PresenceStateName;
  subtype: string;
  message: string;
  /** Who published it: From URI and User-Agent. */
  publisher: string;
  /** Seconds until it expires. */
  expiresIn: number;
  /** Whether it is the state in effect (the latest change among the setting and the publications). */
  effective: boolean;
}

const PUBLICATION_HEADER = ['ETag', 'Entity', 'State', 'In effect', 'Publisher', 'Expires'];

/** `presencestate publications`: one line per live publication under a header line, then a count. */
export function formatPublications(rows: PublicationRow[]): string {
  const cells = rows.map((row) => [row.etag, row.entity, row.state, row.effective ? 'yes' : 'no', row.publisher, seconds(row.expiresIn)]);
  return formatTable(PUBLICATION_HEADER, cells) + `${rows.length} live ${rows.length === 1 ? 'publication' : 'publications'}\n`;
}

/** `presencestate publication remove` and `subscription kick` confirmations, one line without '\n'. */
export function formatRemoved(what: string, id: string, of: string): string {
  return `${what} ${printable(id)} of ${printable(of)}`;
}

/** One part of a reload: the dialplan, pjsip.conf, the AMI users, resource lists. */
export interface ReloadPart {
  part: string;
  ok: boolean;
  /** What was read ('6 hints from /etc/asterisk/extensions.conf') or why not, and what is kept. */
  detail: string;
}

/** `presencestate reload`: one line per part. */
export function formatReload(parts: ReloadPart[]): string {
  if (parts.length === 0) return 'Nothing to reload\n';
  return parts.map(({ part, ok, detail }) => `${ok ? 'Reloaded' : 'Not reloaded'} ${part}: ${printable(detail)}\n`).join('');
}

function seconds(value: number): string {
  return String(Math.max(0, Math.floor(value)));
}

/** Columns aligned under a header line, the last one right-aligned (a number); every cell made printable. */
function formatTable(header: string[], rows: string[][]): string {
  const table = [header, ...rows.map((cells) => cells.map(printable))];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => displayLength(cells[column]!))));
  const last = header.length - 1;
  const lines = table.map((cells) => cells.map((cell, column) => column === last
    ? ' '.repeat(widths[column]! - displayLength(cell)) + cell
    : cell + ' '.repeat(widths[column]! - displayLength(cell))).join('  '));
  return lines.map((line) => `${line}\n`).join('');
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
