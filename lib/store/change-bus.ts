/**
 * The change bus: tells every node "state key K changed, now at version V" (as aedes keeps its message queue apart
 * from its persistence). The store holds the state; a node that hears of a change re-reads the key from the store,
 * so a message only has to name the key, and a node that may have missed messages (a reconnect) re-reads all.
 * Every backend passes the shared suite in test/store/bus-conformance.ts; see docs/STORE.md.
 */
import { isRedisUrl, parseRedisUrl } from './redis-url.js';

/** One change of one state key. */
export interface StateChange {
  /** The state key, e.g. 'CustomPresence:6002'. */
  key: string;
  /** The key's version after the change (Store.nextVersion); a receiver ignores versions it has already seen. */
  version: number;
  /** The node that made the change. */
  node: string;
}

export interface BusListener {
  /** A change, from any node (this one included). Changes of one key arrive in the order they were published. */
  change(change: StateChange): void;
  /** Messages may have been missed (the bus reconnected): re-read every key. */
  resync(): void;
}

export interface ChangeBus {
  /** 'memory' | 'redis' */
  readonly kind: string;
  /** Resolves once the change is on its way to every node listening now. */
  publish(change: StateChange): Promise<void>;
  /** Starts delivering to `listener`; the returned function stops it. */
  listen(listener: BusListener): () => void;
  /** Idempotent; publish rejects with BusClosedError afterwards and nothing more is delivered. */
  close(): Promise<void>;
}

export class BusClosedError extends Error {
  constructor(kind: string) {
    super(`${kind} change bus is closed`);
    this.name = 'BusClosedError';
  }
}

/** The bus that goes with a store: Redis pub/sub for a Redis store, else this process alone. */
export async function openChangeBus(storeKind: string): Promise<ChangeBus> {
  if (isRedisUrl(storeKind)) {
    const { openRedisBus } = await import('./redis-bus.js');
    return openRedisBus(parseRedisUrl(storeKind));
  }
  const { createMemoryBus } = await import('./memory-bus.js');
  return createMemoryBus();
}

/** What goes over the wire: compact JSON, checked on the way in (another program may publish on the channel). */
export function encodeChange(change: StateChange): string {
  return JSON.stringify([change.key, change.version, change.node]);
}

export function decodeChange(text: string): StateChange | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [key, version, node] = value as unknown[];
  if (typeof key !== 'string' || typeof node !== 'string' || !Number.isSafeInteger(version)) return undefined;
  return { key, version: version as number, node };
}
