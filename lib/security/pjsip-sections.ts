/**
 * pjsip.conf as Asterisk's sorcery config reads it (res_sorcery_config over main/config.c): `#include`, templates
 * `[name](!)` used by `[other](name,…)`, `[name](+)` adding to the section above it, and sections told apart by name
 * and `type=` — FreePBX writes `[6001]` three times, as an endpoint, an auth and an aor. A repeated section with the
 * same name and type adds to the first. Every section comes back with its type and its ordered key/values (templates
 * resolved), for whichever module reads its type (endpoints and auths here, `type=resource_list` elsewhere).
 * Anything the syntax layer cannot read is an error naming file:line — a half-read security file must not start.
 */
import { readFileSync } from 'node:fs';
import { readConfig, type ConfigItem, type Diagnostic, type ReadFile } from '../presence/dialplan-parser.js';

export interface PjsipEntry {
  key: string;
  value: string;
  file: string;
  line: number;
}

export interface PjsipSection {
  name: string;
  /** The last `type=` of the section or its templates. */
  type: string;
  file: string;
  line: number;
  /** In file order, the templates' entries first (each template's own templates before it). */
  entries: PjsipEntry[];
}

/** A pjsip.conf that cannot be used; the message starts with file:line. */
export class PjsipConfigError extends Error {
  override name = 'PjsipConfigError';

  constructor(at: { file: string; line: number }, message: string) {
    super(`${at.file}:${at.line}: ${message}`);
  }
}

/** The last value of `key` in `section` (a later line wins, as in Asterisk), or undefined. */
export function lastValue(section: { entries: readonly PjsipEntry[] }, key: string): string | undefined {
  for (let i = section.entries.length - 1; i >= 0; i--) if (section.entries[i].key === key) return section.entries[i].value;
  return undefined;
}

/** Reads `file` and its #includes; throws PjsipConfigError at the first problem. */
export function readPjsipSections(file: string, readFile: ReadFile = (path) => readFileSync(path, 'utf8')): PjsipSection[] {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw new PjsipConfigError({ file, line: 0 }, `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parsePjsipSections(text, file, readFile);
}

interface Category {
  name: string;
  file: string;
  line: number;
  isTemplate: boolean;
  entries: PjsipEntry[];
}

export function parsePjsipSections(text: string, file: string, readFile: ReadFile = (path) => readFileSync(path, 'utf8')): PjsipSection[] {
  const diagnostics: Diagnostic[] = [];
  const categories = readCategories(readConfig(text, file, readFile, diagnostics));
  const first = diagnostics[0];
  if (first) throw new PjsipConfigError(first, first.message);
  const sections: PjsipSection[] = [];
  const byNameAndType = new Map<string, PjsipSection>();
  for (const category of categories) {
    if (category.isTemplate) continue;
    const type = lastValue(category, 'type');
    if (type === undefined || type === '') throw new PjsipConfigError(category, `[${category.name}] has no type=`);
    const key = `${category.name}\u0000${type}`;
    const existing = byNameAndType.get(key);
    if (existing) {
      existing.entries.push(...category.entries.filter((entry) => entry.key !== 'type'));
      continue;
    }
    const section = { name: category.name, type, file: category.file, line: category.line, entries: category.entries };
    byNameAndType.set(key, section);
    sections.push(section);
  }
  return sections;
}

/**
 * Categories in file order, templates copied in when a header names them (config.c inherit_category). Both a
 * template and a `(+)` name the first category of that name, as config.c finds them.
 */
function readCategories(items: Iterable<ConfigItem>): Category[] {
  const categories: Category[] = [];
  const first = new Map<string, Category>();
  let current: Category | undefined;
  for (const item of items) {
    if (item.kind === 'entry') {
      if (!current) throw new PjsipConfigError(item, `"${item.name} = ${item.value}" is outside any [section]`);
      current.entries.push({ key: item.name.trim().toLowerCase(), value: item.value.trim(), file: item.file, line: item.line });
      continue;
    }
    if (item.name === undefined) throw new PjsipConfigError(item, 'malformed section header');
    const options = item.options.map((option) => option.trim()).filter((option) => option !== '');
    if (options.includes('+')) {
      current = first.get(item.name);
      if (!current) throw new PjsipConfigError(item, `[${item.name}](+) adds to a section that is not defined above`);
      continue;
    }
    current = { name: item.name, file: item.file, line: item.line, isTemplate: options.includes('!'), entries: [] };
    for (const name of options.filter((option) => option !== '!')) {
      const template = first.get(name);
      if (!template) throw new PjsipConfigError(item, `[${item.name}] uses template '${name}', which is not defined above`);
      current.entries.push(...template.entries);
    }
    if (!first.has(item.name)) first.set(item.name, current);
    categories.push(current);
  }
  return categories;
}
