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

// Branches (one per NOTIFY) come from their own pool, turned into hex once per fill: a branch is then a slice of that
// text, not a call into the buffer code. A slice keeps the pool's text alive while it lives, which is fine for a
// branch (it lives as long as its transaction); tags, which subscriptions keep for hours, use randomHex.
const BRANCH_HEX_BYTES = 8;
const BRANCH_POOL_BYTES = 4096;
const branchPool = Buffer.allocUnsafe(BRANCH_POOL_BYTES);
let branchHex = '';
let branchOffset = 0;

/** A branch with RFC 3261's magic cookie (§8.1.1.7) and 64 random bits. */
export function newBranch(): string {
  if (branchOffset === branchHex.length) {
    randomFillSync(branchPool);
    branchHex = branchPool.toString('hex');
    branchOffset = 0;
  }
  const start = branchOffset;
  branchOffset += 2 * BRANCH_HEX_BYTES;
  return 'z9hG4bK' + branchHex.slice(start, branchOffset);
}

/** A From/To tag with 64 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomHex(8);
}
