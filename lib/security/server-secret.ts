/**
 * The secret nonces are signed with, kept in the data directory (mode 0600) so that nonces stay valid across a
 * restart and phones refreshing their subscriptions are not all challenged again at once.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SECRET_FILE = 'digest-secret';
const SECRET_BYTES = 32;

export function loadServerSecret(dataDir: string): Buffer {
  const file = join(dataDir, SECRET_FILE);
  try {
    const secret = readFileSync(file);
    if (secret.length === SECRET_BYTES) return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const secret = randomBytes(SECRET_BYTES);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
