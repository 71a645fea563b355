/**
 * Slows down password guessing: every login attempt from an address counts, and is answered — success or failure —
 * only after a delay that doubles with each recent attempt from that address that did not succeed (Asterisk waits a
 * flat second, after failures only). An attempt whose client hangs up before the answer still counts, so closing
 * early and reconnecting gains nothing. A success, or a quiet spell, forgets the address.
 */
export interface ThrottleSettings {
  /** Delay before answering the second attempt (the first is answered at once). */
  baseDelayMs: number;
  /** The delay stops growing here. */
  maxDelayMs: number;
  /** Attempts older than this no longer count. */
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

interface Attempts { count: number; last: number }

export class LoginThrottle {
  // Insertion order is last-attempt order: entries are re-inserted on every attempt.
  private readonly attempts = new Map<string, Attempts>();

  constructor(private readonly settings: ThrottleSettings = DEFAULT_THROTTLE) {}

  /**
   * Records a login attempt from `address` (it counts until `succeeded`); returns how long to wait before answering
   * it, whatever its outcome, and how many earlier attempts count.
   */
  attempt(address: string, now = Date.now()): { delayMs: number; recent: number } {
    const previous = this.attempts.get(address);
    const recent = previous !== undefined && now - previous.last <= this.settings.forgetAfterMs ? previous.count : 0;
    this.attempts.delete(address);
    this.attempts.set(address, { count: recent + 1, last: now });
    this.forgetOldest(now);
    const delay = recent === 0 ? 0 : this.settings.baseDelayMs * 2 ** Math.min(recent - 1, 30);
    return { delayMs: Math.min(delay, this.settings.maxDelayMs), recent };
  }

  succeeded(address: string): void {
    this.attempts.delete(address);
  }

  private forgetOldest(now: number): void {
    for (const [address, entry] of this.attempts) {
      if (this.attempts.size <= this.settings.maxAddresses && now - entry.last <= this.settings.forgetAfterMs) return;
      this.attempts.delete(address);
    }
  }
}
