import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One benchmark figure: the line `npm run bench` prints, its target, and everything measured (for results.json). */
export interface Figure<Details> {
  line: string;
  target: string;
  met: boolean;
  details: Details;
}

/** A scratch directory for one figure's dialplan, CSV, data directory and SIPp files. */
export function makeWorkDir(figure: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `presenced-bench-${figure}-`));
}

export function removeWorkDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** True when this module is the program node was started with (`node dist/bench/x.js`). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}
