/**
 * The option table written out for people: the commented sample presenced.conf (fixtures/presenced.conf) and the
 * option reference in docs/CONFIG.md. Both are generated (`npm run docs:config`) and a test compares them with the
 * table, so neither can drift from what the programs accept.
 */
import { describeDefault, fileKey, OPTIONS, SECTIONS, type OptionSpec } from './options.js';

const SPECS: OptionSpec<unknown>[] = Object.values(OPTIONS);

export const SAMPLE_CONFIG_PATH = 'fixtures/presenced.conf';
export const CONFIG_DOC_PATH = 'docs/CONFIG.md';
const BEGIN = '<!-- options: generated from lib/config/options.ts by `npm run docs:config` -->';
const END = '<!-- end of options -->';

/** The value the sample shows: an example, else the default as written; '' for a default that depends on the machine. */
function sampleValue(spec: OptionSpec<unknown>): string {
  return spec.example ?? (spec.defaultText === undefined ? describeDefault(spec) : '');
}

/** Every option, commented out at its default (or an example), under its section, with its help. */
export function renderSampleConfig(): string {
  const lines = [
    '; presenced.conf: every option, commented out. Remove the ";" before a key to set it.',
    '; Generated from lib/config/options.ts (npm run docs:config); see docs/CONFIG.md.',
    '; Flags given to presenced override this file. Relative paths are relative to this file.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `[${section}]`);
    for (const spec of SPECS.filter((s) => s.section === section)) {
      const shown = describeDefault(spec);
      lines.push(`; ${spec.help} (--${spec.flag}${shown === '' ? '' : `; default: ${shown}`})`);
      lines.push(`;${fileKey(spec)} = ${sampleValue(spec)}`.trimEnd());
    }
  }
  return lines.join('\n') + '\n';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The markdown table of every option. */
export function renderOptionTable(): string {
  const rows = ['| section | key | flag | default | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const section of SECTIONS) {
    for (const spec of SPECS.filter((s) => s.section === section)) {
      const shown = describeDefault(spec);
      rows.push(`| \`[${section}]\` | \`${fileKey(spec)}\` | \`--${spec.flag} ${spec.arg.toUpperCase()}\` | ${shown === '' ? '—' : cell(shown)} | ${cell(spec.help)} |`);
    }
  }
  return rows.join('\n');
}

/** `doc` with its generated block replaced by the current table; throws when the markers are missing. */
export function withOptionTable(doc: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${CONFIG_DOC_PATH} lacks the markers ${BEGIN} … ${END}`);
  return `${doc.slice(0, begin + BEGIN.length)}\n${renderOptionTable()}\n${doc.slice(end)}`;
}
