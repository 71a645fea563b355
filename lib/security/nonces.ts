/**
 * Stateless nonces (RFC 7616 §3.3, §5.4): a nonce carries the time it was issued and an HMAC of that time with the
 * server's secret, so any nonce can be checked without remembering it, and one older than the lifetime is stale.
 * The opaque value is derived from the same secret. Only nonces that authenticated a request are remembered, with
 * the highest nonce count seen, so that a replayed Authorization is refused (RFC 7616 §3.4: nc must grow).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TIME_BYTES = 8;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;

export type NonceCheck = { kind: 'fresh'; issuedAt: number } | { kind: 'stale'; issuedAt: number } | { kind: 'invalid' };

export class NonceIssuer {
  readonly opaque: string;

  constructor(
    private readonly secret: Buffer,
    readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.opaque = this.mac(Buffer.from('opaque')).toString('base64url');
  }

  issue(): string {
    const nonce = Buffer.alloc(NONCE_BYTES);
    nonce.writeBigUInt64BE(BigInt(this.now()), 0);
    randomBytes(RANDOM_BYTES).copy(nonce, TIME_BYTES);
    this.mac(nonce.subarray(0, TIME_BYTES + RANDOM_BYTES)).copy(nonce, TIME_BYTES + RANDOM_BYTES);
    return nonce.toString('base64url');
  }

  check(text: string): NonceCheck {
    const nonce = /^[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
    if (nonce.length !== NONCE_BYTES) return { kind: 'invalid' };
    const expected = this.mac(nonce.subarray(0, TIME_BYTES + RANDOM_BYTES));
    if (!timingSafeEqual(expected, nonce.subarray(TIME_BYTES + RANDOM_BYTES))) return { kind: 'invalid' };
    const issuedAt = Number(nonce.readBigUInt64BE(0));
    const age = this.now() - issuedAt;
    if (age < 0) return { kind: 'invalid' };
    return age > this.lifetimeMs ? { kind: 'stale', issuedAt } : { kind: 'fresh', issuedAt };
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(data).digest().subarray(0, MAC_BYTES);
  }
}

/**
 * The highest nonce count accepted per nonce, for nonces still within their lifetime. At most `capacity` are kept;
 * when one is forgotten early, every nonce issued up to its time counts as stale from then on, so forgetting never
 * lets a replay through.
 */
export class NonceCounts {
  /** Insertion order is first-use order; values are [issuedAt, highest nc]. */
  private readonly counts = new Map<string, [number, number]>();
  private forgottenUpTo = -Infinity;

  constructor(private readonly lifetimeMs: number, private readonly capacity = 100_000, private readonly now: () => number = Date.now) {}

  /**
   * Records `nc` for `nonce`: `replayed` when it is not above the last one accepted, `forgotten` when the nonce may
   * have been used before it was forgotten (the client is told it is stale).
   */
  accept(nonce: string, issuedAt: number, nc: number): 'accepted' | 'replayed' | 'forgotten' {
    this.forgetExpired();
    const entry = this.counts.get(nonce);
    if (entry) {
      if (nc <= entry[1]) return 'replayed';
      entry[1] = nc;
      return 'accepted';
    }
    if (issuedAt <= this.forgottenUpTo) return 'forgotten';
    this.counts.set(nonce, [issuedAt, nc]);
    while (this.counts.size > this.capacity) this.forgetFirst();
    return 'accepted';
  }

  get size(): number {
    return this.counts.size;
  }

  private forgetExpired(): void {
    const oldest = this.now() - this.lifetimeMs;
    for (const [nonce, [issuedAt]] of this.counts) {
      if (issuedAt >= oldest) return;
      this.counts.delete(nonce);
    }
  }

  private forgetFirst(): void {
    const first = this.counts.entries().next().value;
    if (!first) return;
    this.counts.delete(first[0]);
    this.forgottenUpTo = Math.max(this.forgottenUpTo, first[1][0]);
  }
}
