/**
 * Slows down password guessing: every failed login from an address is answered after a delay that doubles with each
 * recent failure from that address (Asterisk waits a flat second). A success, or a quiet spell, forgets the address.
 */
export interface ThrottleSettings {
  /** Delay before answering the first failure. */
  baseDelayMs: number;
  /** The delay stops growing here. */
  maxDelayMs: number;
  /** Failures older than this no longer count. */
  forgetAfterMs: number;
  /** Addresses remembered at most; the longest quiet ones are forgotten first. */
  maxAddresses: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  forgetAfterMs: 15 * 60_000,
  maxAddresses: 10_000,
};

interface Failures { count: number; last: number }

export class LoginThrottle {
  // Insertion order is last-failure order: entries are re-inserted on every failure.
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly settings: ThrottleSettings = DEFAULT_THROTTLE) {}

  /** Records a failed login from `address`; returns how long to wait before answering it. */
  failed(address: string, now = Date.now()): number {
    const previous = this.failures.get(address);
    const recent = previous !== undefined && now - previous.last <= this.settings.forgetAfterMs ? previous.count : 0;
    this.failures.delete(address);
    this.failures.set(address, { count: recent + 1, last: now });
    this.forgetOldest(now);
    const delay = this.settings.baseDelayMs * 2 ** Math.min(recent, 30);
    return Math.min(delay, this.settings.maxDelayMs);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  private forgetOldest(now: number): void {
    for (const [address, entry] of this.failures) {
      if (this.failures.size <= this.settings.maxAddresses && now - entry.last <= this.settings.forgetAfterMs) return;
      this.failures.delete(address);
    }
  }
}
