/**
 * Failed authentications per source address: each recent failure doubles the wait before the next 401 (guessing
 * gets slow), and with `--auth-ban N/SECONDS` an address with N failures within SECONDS is shut out for SECONDS.
 * A success or a quiet spell forgets the address; at most `maxAddresses` are remembered.
 */
export interface BanPolicy { failures: number; windowMs: number }

export interface FailureSettings {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures older than this no longer count (the ban window when banning is on). */
  forgetAfterMs: number;
  maxAddresses: number;
  ban: BanPolicy | undefined;
}

export const DEFAULT_FAILURE_SETTINGS: FailureSettings = {
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  forgetAfterMs: 5 * 60_000,
  maxAddresses: 10_000,
  ban: undefined,
};

interface Record { count: number; first: number; last: number }

export class AuthFailures {
  /** Insertion order is last-failure order: records are re-inserted on every failure. */
  private readonly failures = new Map<string, Record>();
  private readonly bannedUntil = new Map<string, number>();

  constructor(private readonly settings: FailureSettings = DEFAULT_FAILURE_SETTINGS, private readonly now: () => number = Date.now) {}

  /** Records a failure from `address`: how long to wait before answering it, and whether it is now banned. */
  failed(address: string): { delayMs: number; banned: boolean } {
    const now = this.now();
    const previous = this.failures.get(address);
    const window = this.settings.ban?.windowMs ?? this.settings.forgetAfterMs;
    const fresh = previous === undefined || now - previous.first > window;
    const record = fresh ? { count: 1, first: now, last: now } : { count: previous.count + 1, first: previous.first, last: now };
    this.failures.delete(address);
    this.failures.set(address, record);
    const ban = this.settings.ban;
    if (ban && record.count >= ban.failures) {
      this.bannedUntil.set(address, now + ban.windowMs);
      this.failures.delete(address);
      this.forgetOldest(now);
      return { delayMs: 0, banned: true };
    }
    this.forgetOldest(now);
    const delayMs = Math.min(this.settings.baseDelayMs * 2 ** Math.min(record.count - 1, 20), this.settings.maxDelayMs);
    return { delayMs: record.count === 1 ? 0 : delayMs, banned: false };
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  banned(address: string): boolean {
    const until = this.bannedUntil.get(address);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.bannedUntil.delete(address);
    return false;
  }

  private forgetOldest(now: number): void {
    for (const [address, record] of this.failures) {
      if (this.failures.size <= this.settings.maxAddresses && now - record.last <= this.settings.forgetAfterMs) break;
      this.failures.delete(address);
    }
    if (this.bannedUntil.size > this.settings.maxAddresses) {
      for (const [address, until] of this.bannedUntil) if (until <= now || this.bannedUntil.size > this.settings.maxAddresses) this.bannedUntil.delete(address);
    }
  }
}
