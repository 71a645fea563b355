/**
 * Strings kept for the life of a subscription are copied out of the parsed message: V8 represents a slice as a view
 * on its parent, so keeping one header value would keep the whole SUBSCRIBE text alive.
 */
export function detach(text: string): string {
  // V8 copies short slices anyway.
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * One shared instance per key, for values many long-lived objects repeat. Keys are stored detached. Bounded: when
 * full it starts over, so stale keys cannot pile up; instances already handed out stay valid, they are just no longer
 * shared with newcomers.
 */
export class SharedPool<T> {
  private readonly pool = new Map<string, T>();

  constructor(private readonly maxEntries = 100_000) {}

  /** The shared instance for `key`; on a miss, `make` builds it (given the detached key). */
  get(key: string, make: (storedKey: string) => T): T {
    const shared = this.pool.get(key);
    if (shared !== undefined) return shared;
    if (this.pool.size >= this.maxEntries) this.pool.clear();
    const storedKey = detach(key);
    const made = make(storedKey);
    this.pool.set(storedKey, made);
    return made;
  }
}

/** One shared copy of strings that many subscriptions repeat (User-Agent, our Contact, presentity URIs, extensions). */
export class InternPool extends SharedPool<string> {
  intern(text: string): string {
    return this.get(text, itself);
  }
}

const itself = (copy: string): string => copy;
