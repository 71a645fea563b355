import { readFileSync } from 'node:fs';

/** C0 controls that text files do not contain (tab, LF, FF and CR are fine). */
function isControlByte(byte: number): boolean {
  return byte < 32 && byte !== 9 && byte !== 10 && byte !== 12 && byte !== 13;
}

/**
 * Reads a configuration file as text, refusing one that is not: a binary file copied over a config (`cp /bin/ls
 * extensions.conf`) would otherwise read as a file with nothing in it. Text is UTF-8; other 8-bit encodings pass.
 */
export function readConfigText(file: string): string {
  const bytes = readFileSync(file);
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new Error(`${file} is not a text file (a NUL byte at offset ${nul})`);
  let controls = 0;
  for (const byte of bytes) if (isControlByte(byte)) controls++;
  if (controls > bytes.length / 100) throw new Error(`${file} is not a text file (${controls} control bytes)`);
  return bytes.toString('utf8');
}
