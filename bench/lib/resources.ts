// Generated dialplans and SIPp resource lists: one hint per extension (presence-only unless a device is named), as an
// admin would write them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface HintLine {
  exten: string;
  /** The CustomPresence provider name (after `CustomPresence:`). */
  presence: string;
  /** The device part, e.g. 'Custom:fanout'; none by default. */
  device?: string;
}

/** `count` consecutive extensions from `first`. */
export function extensionRange(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(first + i));
}

/** Writes an extensions.conf with the hints in [default]; returns its path. */
export function writeHints(dir: string, name: string, hints: readonly HintLine[]): string {
  const file = path.join(dir, name);
  const lines = hints.map((hint) => `exten => ${hint.exten},hint,${hint.device ?? ''},CustomPresence:${hint.presence}`);
  writeFileSync(file, `[default]\n${lines.join('\n')}\n`);
  return file;
}

/** Writes a SIPp -inf file: SEQUENTIAL, then one extension per line as field0; returns its path. */
export function writeSippResources(dir: string, name: string, extens: readonly string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `SEQUENTIAL\n${extens.map((exten) => `${exten};`).join('\n')}\n`);
  return file;
}

/** The SIPp benchmark's resources: `count` extensions from 100000, each hint on its own CustomPresence. */
export function writeSippDialplan(dir: string, count = 10_000): { configFile: string; csvFile: string } {
  const extens = extensionRange(100_000, count);
  return {
    configFile: writeHints(dir, 'extensions.conf', extens.map((exten) => ({ exten, presence: exten }))),
    csvFile: writeSippResources(dir, 'resources.csv', extens),
  };
}
