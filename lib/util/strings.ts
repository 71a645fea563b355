/**
 * Strings kept for the life of a subscription are copied out of the parsed message: V8 represents a slice as a view
 * on its parent, so keeping one header value would keep the whole SUBSCRIBE text alive.
 */
export function detach(text: string): string {
  // V8 copies short slices anyway.
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * One shared copy of values that many subscriptions repeat (User-Agent, our Contact, presentity URIs). Bounded, so a
 * peer sending ever-new values cannot grow it without limit: past the bound values are just detached.
 */
export class InternPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly maxEntries = 100_000) {}

  get(text: string): string {
    const shared = this.pool.get(text);
    if (shared !== undefined) return shared;
    const copy = detach(text);
    if (this.pool.size < this.maxEntries) this.pool.set(copy, copy);
    return copy;
  }
}
