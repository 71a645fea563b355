import { randomFillSync } from 'node:crypto';

// Tags and branches must be unguessable (RFC 3261 §19.3, §8.1.1.7) and are made per message: draw from a pool
// filled by the CSPRNG in large blocks instead of one system call each.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return text;
}

/** A branch with RFC 3261's magic cookie (§8.1.1.7) and 64 random bits. */
export function newBranch(): string {
  return 'z9hG4bK' + randomHex(8);
}

/** A From/To tag with 64 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomHex(8);
}
