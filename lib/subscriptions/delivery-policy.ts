/**
 * How NOTIFY failures and bursts are handled (docs/RELIABILITY.md). RFC 6665 §4.2.2 lets a notifier drop a
 * subscription on the first timeout; one lost burst of packets should not blank a BLF key, so transient failures are
 * retried with back-off and only `maxFailures` in a row end the subscription.
 */
export interface DeliveryPolicy {
  /** Consecutive transient failures (timeout, 408, 5xx, transport) after which the subscription is dropped. */
  maxFailures: number;
  /** At most this many NOTIFYs per second to one watcher; changes in between are coalesced (newest state wins). */
  maxRate: number;
  /** First retry delay; doubles per consecutive failure up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

export const DEFAULT_DELIVERY: DeliveryPolicy = { maxFailures: 3, maxRate: 5, retryDelayMs: 2000, maxRetryDelayMs: 60_000 };

export type FailureKind = 'fatal' | 'transient' | 'transaction-only';

/**
 * RFC 6665 §4.2.2 and RFC 5057 §5.1 sort NOTIFY outcomes: 481 and other definitive refusals end the subscription;
 * timeouts (Timer F → 408), 408, 5xx and transport failures may be temporary; 491 concerns only that request.
 */
export function classifyFailure(status: number): FailureKind {
  if (status === 491) return 'transaction-only';
  if (status === 408 || status === 503 || (status >= 500 && status < 600)) return 'transient';
  return 'fatal';
}

/** Delay before retry n (1-based): Retry-After when the watcher gave one, else exponential back-off. */
export function retryDelay(policy: DeliveryPolicy, failures: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, policy.maxRetryDelayMs);
  return Math.min(policy.retryDelayMs * 2 ** (failures - 1), policy.maxRetryDelayMs);
}
