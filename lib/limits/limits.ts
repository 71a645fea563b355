/**
 * How much an anonymous client may make presenced keep. Every limit is a presenced option; the defaults are derived
 * from the heap the process may use, so that the worst case the limits allow still fits in memory (and in the store,
 * whose rows hold the same strings). docs/RELIABILITY.md lists each limit and what a client gets when it hits it.
 */
import v8 from 'node:v8';

export interface Limits {
  /** Longest header value (one header line) or Request-URI a request may carry: beyond it 400 naming the header. */
  maxHeaderBytes: number;
  /** Largest request (head and body): beyond it 513. */
  maxRequestBytes: number;
  /** Largest dialog state one subscription keeps (Call-ID, identities, target, route set, event id): beyond it 513. */
  maxDialogBytes: number;
  /** Live subscriptions in total: beyond it 503 with Retry-After. */
  maxSubscriptions: number;
  /** Live subscriptions from one source address: beyond it 403. */
  maxSubscriptionsPerSource: number;
  /** Live subscriptions to one presentity (extension and context): beyond it 403. */
  maxSubscriptionsPerPresentity: number;
  /** Live publications in total: beyond it 503 with Retry-After. */
  maxPublications: number;
  /** Live publications for one presentity: beyond it 403. */
  maxPublicationsPerPresentity: number;
  /** Live publications from one source address for one presentity: beyond it 403 (the owner keeps room). */
  maxPublicationsPerSource: number;
}

/** Seconds a client refused because the server is full is told to wait (Retry-After). */
export const FULL_RETRY_AFTER_S = 60;

/** What a subscription costs besides its own strings: the object, its index entries and its share of flows. */
const SUBSCRIPTION_OVERHEAD_BYTES = 1024;
/** A publication: its entry, state strings (bounded by the request size) and index entries. */
const PUBLICATION_BYTES = 4096;

/**
 * Defaults for a heap of `heapLimit` bytes: subscriptions of the largest allowed size may take half of it,
 * publications an eighth; one source address or one presentity a tenth of the subscriptions.
 */
export function defaultLimits(heapLimit = v8.getHeapStatistics().heap_size_limit): Limits {
  const maxDialogBytes = 4096;
  const maxSubscriptions = Math.floor(heapLimit / 2 / (SUBSCRIPTION_OVERHEAD_BYTES + maxDialogBytes));
  const maxPublications = Math.floor(heapLimit / 8 / PUBLICATION_BYTES);
  return {
    maxHeaderBytes: 2048,
    maxRequestBytes: 32 * 1024,
    maxDialogBytes,
    maxSubscriptions,
    maxSubscriptionsPerSource: Math.ceil(maxSubscriptions / 10),
    maxSubscriptionsPerPresentity: Math.ceil(maxSubscriptions / 10),
    maxPublications,
    maxPublicationsPerPresentity: 32,
    maxPublicationsPerSource: 8,
  };
}

