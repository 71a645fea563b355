/**
 * Times kept per subscription are small integers: V8 stores a small integer inside the object, but any other number
 * as a separate 16-byte heap number, and 100,000 subscriptions each holding a few of those add up.
 */

/** What a TimerQueue reads time from: `now()` in the clock's unit, and the milliseconds until a time in that unit. */
export interface Clock {
  now(): number;
  msUntil(time: number): number;
}

export const MILLISECOND_CLOCK: Clock = {
  now: Date.now,
  msUntil: (time) => time - Date.now(),
};

const ORIGIN_MS = Date.now();
/** The expiry clock's unit: a tenth of a second. */
const EXPIRY_UNIT_MS = 100;

/**
 * Tenths of a second since the process started: a small integer for 6.8 years of uptime (after that the numbers are
 * merely boxed). Subscription expiry is kept in these; deadlines are rounded up, so nothing ends early, and at most
 * a tenth of a second late.
 */
export const EXPIRY_CLOCK: Clock = {
  now: () => ((Date.now() - ORIGIN_MS) / EXPIRY_UNIT_MS) | 0,
  msUntil: (time) => ORIGIN_MS + time * EXPIRY_UNIT_MS - Date.now(),
};

/** The expiry-clock time `seconds` from now. */
export function expiryIn(seconds: number): number {
  return Math.ceil((Date.now() - ORIGIN_MS + seconds * 1000) / EXPIRY_UNIT_MS) | 0;
}

/** Expiry-clock time ↔ wall-clock milliseconds (what the store keeps, so that it survives restarts). */
export function expiryToEpochMs(time: number): number {
  return ORIGIN_MS + time * EXPIRY_UNIT_MS;
}

export function epochMsToExpiry(epochMs: number): number {
  return Math.ceil((epochMs - ORIGIN_MS) / EXPIRY_UNIT_MS) | 0;
}

/** Milliseconds on a clock that wraps every 2^30 ms (12.4 days), so that it is always a small integer. */
export const WRAP_MS = 2 ** 30;

export function wrappedNowMs(): number {
  return (Date.now() % WRAP_MS) | 0;
}

/** Milliseconds since a wrapped time; exact for intervals under 12.4 days (it only ever judges short ones). */
export function msSinceWrapped(then: number, now = wrappedNowMs()): number {
  return (now - then + WRAP_MS) % WRAP_MS;
}
