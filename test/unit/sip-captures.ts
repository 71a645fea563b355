import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CaptureName = 'baresip' | 'linphonec' | 'sipp';

/** A captured SUBSCRIBE from fixtures/sip, exactly as received (CRLF line ends). */
export function capture(name: CaptureName): string {
  return readFileSync(join(process.cwd(), 'fixtures', 'sip', `${name}-subscribe.sip`), 'utf8');
}

/** Replaces the first header line named `name` (as written, e.g. "Via") with `line`, or removes it when null. */
export function replaceHeader(message: string, name: string, line: string | null): string {
  const start = message.indexOf(`\r\n${name}:`);
  if (start === -1) throw new Error(`capture has no ${name} header`);
  const end = message.indexOf('\r\n', start + 2);
  return message.slice(0, start) + (line === null ? '' : `\r\n${line}`) + message.slice(end);
}

/** Inserts header lines right after the start line. */
export function addHeaders(message: string, ...lines: string[]): string {
  const startLineEnd = message.indexOf('\r\n');
  return message.slice(0, startLineEnd) + lines.map((line) => `\r\n${line}`).join('') + message.slice(startLineEnd);
}
