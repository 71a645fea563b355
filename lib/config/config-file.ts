/**
 * presenced.conf: the option table in Asterisk's configuration syntax. Each option lives in its section under its
 * key (`[sip]` `udp = 0.0.0.0:5060`); `;` comments and `#include` work as in Asterisk. Anything the file says that
 * presenced cannot use — an unknown section or key, a bad value, a line that cannot be read — is an error naming
 * file:line: a daemon must not start on a configuration it only half understood.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readConfig, type Diagnostic } from '../presence/dialplan-parser.js';
import { fileKey, OPTIONS, SECTIONS, type OptionName, type OptionSpec, type OptionValues } from './options.js';
import { ConfigError } from './server-config.js';

/** `section.key` → option name. */
const BY_KEY = new Map<string, OptionName>(
  (Object.keys(OPTIONS) as OptionName[]).map((name) => [`${OPTIONS[name].section}.${fileKey(OPTIONS[name])}`, name]),
);

/** Options whose value names a file or directory: relative values are relative to the file that says them. */
function isPath(spec: OptionSpec<unknown>): boolean {
  return spec.arg === 'file' || spec.arg === 'dir';
}

/** Reads and checks `file`; throws ConfigError naming file:line (or the file, when it cannot be read). */
export function readConfigFile(file: string): Partial<OptionValues> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const diagnostics: Diagnostic[] = [];
  const values: Record<string, unknown> = {};
  const fail = (at: { file: string; line: number }, message: string): never => {
    throw new ConfigError(`${at.file}:${at.line}: ${message}`);
  };
  let section: string | undefined;
  for (const item of readConfig(text, file, (included) => readFileSync(included, 'utf8'), diagnostics)) {
    if (diagnostics.length > 0) fail(diagnostics[0], diagnostics[0].message);
    if (item.kind === 'section') {
      section = item.name?.toLowerCase();
      if (section === undefined || !(SECTIONS as readonly string[]).includes(section)) {
        fail(item, `unknown section [${item.name ?? ''}] (expected one of ${SECTIONS.map((s) => `[${s}]`).join(' ')})`);
      }
      continue;
    }
    if (section === undefined) fail(item, `"${item.name}" is outside any section`);
    const name = BY_KEY.get(`${section}.${item.name.toLowerCase()}`) ?? fail(item, `unknown key "${item.name}" in [${section}]${suggest(section!, item.name)}`);
    const spec: OptionSpec<unknown> = OPTIONS[name];
    try {
      const value = spec.parse(item.value);
      values[name] = isPath(spec) && typeof value === 'string' ? path.resolve(path.dirname(item.file), value) : value;
    } catch (error) {
      fail(item, `${item.name} = ${item.value}: ${(error as Error).message}`);
    }
  }
  if (diagnostics.length > 0) fail(diagnostics[0], diagnostics[0].message);
  return values as Partial<OptionValues>;
}

/** ' (it belongs in [sip])' when the key exists in another section. */
function suggest(section: string, key: string): string {
  for (const other of SECTIONS) {
    if (other !== section && BY_KEY.has(`${other}.${key.toLowerCase()}`)) return ` (it belongs in [${other}])`;
  }
  return '';
}
