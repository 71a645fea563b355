/**
 * `--store redis://HOST:PORT[/DB]`: checked once, with a message that says what is wrong with the URL.
 */

/** A Redis location presenced can connect to. */
export interface RedisLocation {
  /** The URL as given, without a password: what messages show. */
  shown: string;
  /** What the client connects to. */
  url: string;
  db: number;
}

export function isRedisUrl(text: string): boolean {
  return /^rediss?:/i.test(text);
}

/** Parses and checks a Redis URL; throws an Error whose message names the fault. */
export function parseRedisUrl(text: string): RedisLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`'${text}' is not a URL (expected redis://HOST:PORT[/DB])`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`'${url.protocol}' is not a Redis scheme (expected redis:// or rediss://)`);
  if (url.hostname === '') throw new Error(`'${text}' names no host (expected redis://HOST:PORT[/DB])`);
  if (url.search !== '' || url.hash !== '') throw new Error(`'${text}' has a query or fragment; a Redis URL takes none`);
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d{0,2}$/.test(path)) throw new Error(`'/${path}' is not a database number (expected /0 to /15)`);
  const db = path === '' ? 0 : Number(path);
  if (db > 15) throw new Error(`database ${db} is out of range (expected /0 to /15)`);
  const shown = `${url.protocol}//${url.host}/${db}`;
  return { shown, url: text, db };
}
