// The one capture of a whole interop run: started by the root hook, read by capture.interop.ts once every client
// has run. INTEROP_PCAP=<file> keeps the capture there (a CI artifact); otherwise it lives in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Capture } from './capture.js';

const MAX_RUN_MS = 15 * 60 * 1000;

let capture: Capture | undefined;
let tempDir: string | undefined;

export async function startSuiteCapture(): Promise<void> {
  let file = process.env.INTEROP_PCAP;
  if (file === undefined) {
    tempDir = await mkdtemp(path.join(tmpdir(), 'presenced-interop-'));
    file = path.join(tempDir, 'interop.pcapng');
  }
  capture = await Capture.start(path.resolve(file), MAX_RUN_MS);
}

/** Ends the capture and returns the file; fails if the suite's capture never started. */
export async function finishSuiteCapture(): Promise<string> {
  if (!capture) throw new Error('no capture: the root hook (capture.hooks.js) did not run; use npm run test:interop');
  if (capture.running) {
    const status = await capture.stop();
    if (status.code !== 0) throw new Error(`tshark ended with ${status.code ?? status.signal}\n${capture.transcript()}`);
  }
  return capture.file;
}

/** Stops tshark if it still runs and removes the temp dir. */
export async function discardSuiteCapture(): Promise<void> {
  if (capture?.running) await capture.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  capture = undefined;
  tempDir = undefined;
}
