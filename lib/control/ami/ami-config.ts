/**
 * The AMI users, from a file in Asterisk's manager.conf format (manager.c __init_manager): `[general]` settings, then
 * one `[username]` section per user with `secret=`, `read=`/`write=` class lists and `permit=`/`deny=` networks.
 * Template sections work as in Asterisk: `[name](!)` defines one, `[user](name)` starts from its entries.
 * Nothing throws on a bad line: it becomes a diagnostic; a user whose ACL cannot be read is dropped, as Asterisk does.
 */
import { readConfigText } from '../../util/config-text.js';
import { readConfig, type ConfigEntry, type ConfigItem, type Diagnostic, type ReadFile } from '../../presence/dialplan-parser.js';
import { parseAclRules, type AclRule } from '../../security/acl.js';
import { parseClassList } from './ami-permissions.js';

export interface AmiUser {
  /** As written in the section header; logins match it case-insensitively. */
  name: string;
  /** Undefined when the section has none: the user cannot log in. */
  secret: string | undefined;
  /** Classes of events the user receives. */
  read: number;
  /** Classes of actions the user may run. */
  write: number;
  acl: AclRule[];
}

export interface AmiGeneral {
  /** A connection that has not logged in after this long is closed (`authtimeout`, seconds in the file). */
  authTimeoutMs: number;
  /** Connections not logged in yet, at most; further ones are closed at once (`authlimit`). */
  authLimit: number;
  /** Events carry a `Timestamp:` header (`timestampevents`). */
  timestampEvents: boolean;
}

export interface AmiConfig {
  general: AmiGeneral;
  /** By lower-case name. */
  users: Map<string, AmiUser>;
  diagnostics: Diagnostic[];
}

/** Asterisk's defaults (manager_set_defaults). */
export const DEFAULT_AMI_GENERAL: AmiGeneral = { authTimeoutMs: 30_000, authLimit: 50, timestampEvents: false };

/** Asterisk settings without an equivalent here (there is no HTTP or TLS manager, no channels). */
const UNSUPPORTED_GENERAL = new Set([
  'webenabled', 'httptimeout', 'displayconnects', 'allowmultiplelogin', 'debug', 'brokeneventsaction', 'channelvars',
  'disabledevents',
]);
const UNSUPPORTED_USER = new Set(['displayconnects', 'allowmultiplelogin', 'writetimeout', 'setvar', 'acl']);
const TRUE_WORDS = new Set(['yes', 'true', 'y', 't', '1', 'on']);

interface Section { name: string; file: string; line: number; isTemplate: boolean; templates: string[]; entries: ConfigEntry[] }

/** Reads `file` and its #includes; throws only when `file` itself cannot be read. */
export function loadAmiConfig(file: string): AmiConfig {
  let text: string;
  try {
    text = readConfigText(file);
  } catch (error) {
    throw new Error(`cannot read AMI config ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseAmiConfig(text, file);
}

export function parseAmiConfig(text: string, file = '<input>', readFile: ReadFile = readConfigText): AmiConfig {
  const diagnostics: Diagnostic[] = [];
  const sections = readSections(readConfig(text, file, readFile, diagnostics), diagnostics);
  const general = { ...DEFAULT_AMI_GENERAL };
  const users = new Map<string, AmiUser>();
  for (const section of sections.values()) {
    if (section.name.toLowerCase() === 'general') readGeneral(general, section.entries, diagnostics);
    else if (!section.isTemplate) {
      const user = readUser(section, sections, diagnostics);
      if (user) users.set(user.name.toLowerCase(), user);
    }
  }
  return { general, users, diagnostics };
}

/** Sections by name; a repeated name adds to the first one, as manager.c finds the existing user again. */
function readSections(items: Iterable<ConfigItem>, diagnostics: Diagnostic[]): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  for (const item of items) {
    if (item.kind === 'section') {
      current = undefined;
      if (item.name === undefined) continue;
      current = sections.get(item.name) ?? { name: item.name, file: item.file, line: item.line, isTemplate: false, templates: [], entries: [] };
      current.isTemplate ||= item.options.includes('!');
      current.templates.push(...item.options.filter((option) => option !== '!' && option !== '+'));
      sections.set(item.name, current);
    } else if (current) {
      current.entries.push(item);
    } else {
      diagnostics.push({ file: item.file, line: item.line, message: `"${item.name} = ${item.value}" is outside any [section]; ignored` });
    }
  }
  return sections;
}

function readGeneral(general: AmiGeneral, entries: ConfigEntry[], diagnostics: Diagnostic[]): void {
  for (const entry of entries) {
    const key = entry.name.toLowerCase();
    if (key === 'authtimeout' || key === 'authlimit') {
      const value = /^\d+$/.test(entry.value) ? Number(entry.value) : 0;
      if (value < 1) report(diagnostics, entry, `invalid ${key} '${entry.value}'; the default is used`);
      else if (key === 'authtimeout') general.authTimeoutMs = value * 1000;
      else general.authLimit = value;
    } else if (key === 'timestampevents') {
      general.timestampEvents = TRUE_WORDS.has(entry.value.toLowerCase());
    } else if (key === 'enabled') {
      // `enabled = yes` is what a manager.conf says anyway; --ami decides.
      if (!TRUE_WORDS.has(entry.value.toLowerCase())) report(diagnostics, entry, `[general] enabled = ${entry.value} is ignored: --ami turns AMI on`);
    } else if (key === 'port' || key === 'bindaddr') {
      report(diagnostics, entry, `[general] ${entry.name} has no effect in presenced (the address comes from --ami); ignored`);
    } else if (UNSUPPORTED_GENERAL.has(key) || key.startsWith('tls') || key.startsWith('ssl')) {
      report(diagnostics, entry, `[general] ${entry.name} is not supported; ignored`);
    } else {
      report(diagnostics, entry, `unknown [general] setting ${entry.name}; ignored`);
    }
  }
}

function readUser(section: Section, sections: Map<string, Section>, diagnostics: Diagnostic[]): AmiUser | undefined {
  // Asterisk starts a manager.conf user with no rights at all.
  const user: AmiUser = { name: section.name, secret: undefined, read: 0, write: 0, acl: [] };
  let valid = true;
  for (const entry of inheritedEntries(section, sections, diagnostics)) {
    const key = entry.name.toLowerCase();
    if (key === 'secret') user.secret = entry.value;
    else if (key === 'read' || key === 'write') {
      const { mask, unknown } = parseClassList(entry.value);
      user[key] = mask;
      if (unknown.length > 0) report(diagnostics, entry, `unknown class ${unknown.map((name) => `'${name}'`).join(', ')} in ${entry.name}; ignored`);
    } else if (key === 'permit' || key === 'deny') {
      try {
        user.acl.push(...parseAclRules(key, entry.value));
      } catch (error) {
        report(diagnostics, entry, `invalid ${key} for user '${section.name}': ${(error as Error).message}; the user is not loaded`);
        valid = false;
      }
    } else if (UNSUPPORTED_USER.has(key) || key.startsWith('eventfilter')) {
      report(diagnostics, entry, `${entry.name} is not supported; ignored`);
    } else {
      report(diagnostics, entry, `unknown setting ${entry.name} for user '${section.name}'; ignored`);
    }
  }
  if (valid && (user.secret === undefined || user.secret === '')) {
    report(diagnostics, section, `user '${section.name}' has no secret and cannot log in`);
  }
  return valid ? user : undefined;
}

/** The entries of the templates a section names (in order, each with its own templates first), then its own. */
function inheritedEntries(section: Section, sections: Map<string, Section>, diagnostics: Diagnostic[], seen = new Set<Section>()): ConfigEntry[] {
  seen.add(section);
  const entries: ConfigEntry[] = [];
  for (const name of section.templates) {
    const template = sections.get(name);
    if (!template) report(diagnostics, section, `[${section.name}] uses template '${name}', which is not defined; ignored`);
    else if (!seen.has(template)) entries.push(...inheritedEntries(template, sections, diagnostics, seen));
  }
  return [...entries, ...section.entries];
}

function report(diagnostics: Diagnostic[], at: { file: string; line: number }, message: string): void {
  diagnostics.push({ file: at.file, line: at.line, message });
}
