/**
 * The Redis backend of the Store: several presenced nodes share it (docs/CLUSTER.md). On node-redis (@redis/client):
 * maintained by Redis itself, typed, with automatic reconnection and resubscription.
 *
 * Keys, all under `presenced:` in the URL's database:
 *   schema              string  the layout version below; another one is refused at open
 *   version             hash    state key → its version (HINCRBY: atomic for every node)
 *   presence            hash    name → JSON record;  presence:version hash name → version (for conditional writes)
 *   sub                 hash    id → JSON {expiresAt, data, owner};  sub:order hash id → its member in sub:expiry
 *   sub:expiry          zset    score 0, member = 16-digit expiresAt + id: byte order is (expiry, id in code points)
 *   pub                 hash    etag → JSON record;  pub:name hash etag → name;  pub:expiry zset etag by expiresAt
 *   pub:of:<name>       set     the etags of one name
 *   lease               hash    node → ms since epoch until which it is alive
 *   documents           hash    key → JSON text (the panel's state list and user settings)
 * Writes that touch several keys run as one Lua script or MULTI, so they are atomic as a SQLite transaction is.
 */
import { createClient, type RedisClientType } from '@redis/client';
import { ERRORS, PresencedError } from '../errors.js';
import { compareCodePoints } from './memory-store.js';
import type { RedisLocation } from './redis-url.js';
import { StoreClosedError, type DeviceStateRecord, type DocumentRecord, type PresenceRecord, type PublicationRecord, type Store, type SubscriptionPage, type SubscriptionRecord } from './store.js';

/** Bump when the layout above changes in a way older nodes cannot read. */
export const REDIS_SCHEMA_VERSION = 1;

const PREFIX = 'presenced:';
const K = {
  schema: `${PREFIX}schema`,
  version: `${PREFIX}version`,
  presence: `${PREFIX}presence`,
  presenceVersion: `${PREFIX}presence:version`,
  device: `${PREFIX}device`,
  deviceVersion: `${PREFIX}device:version`,
  sub: `${PREFIX}sub`,
  subOrder: `${PREFIX}sub:order`,
  subExpiry: `${PREFIX}sub:expiry`,
  pub: `${PREFIX}pub`,
  pubName: `${PREFIX}pub:name`,
  pubExpiry: `${PREFIX}pub:expiry`,
  pubOf: (name: string) => `${PREFIX}pub:of:${name}`,
  documents: `${PREFIX}documents`,
  lease: `${PREFIX}lease`,
};

/** Removes a lease that is still expired. KEYS: lease; ARGV: node, now. */
const TAKE_OVER = `
local expiry = redis.call('HGET', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) < tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], ARGV[1]) return 1 end
return 0`;

/**
 * Saves unless the stored version is at least as high. KEYS: the records' hash and their versions' hash (presence,
 * presence:version; device, device:version); ARGV: name, json, version.
 */
const SAVE_PRESENCE = `
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored and tonumber(stored) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1`;

/**
 * One batch of subscription changes. KEYS: sub, sub:order, sub:expiry; ARGV: upsert count, then per upsert
 * id, member, json, then the ids to delete. Deletes come after upserts, as the interface says.
 */
const WRITE_SUBSCRIPTIONS = `
local upserts = tonumber(ARGV[1])
local i = 2
for _ = 1, upserts do
  local id, member, json = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', KEYS[2], id)
  if old then redis.call('ZREM', KEYS[3], old) end
  redis.call('HSET', KEYS[1], id, json)
  redis.call('HSET', KEYS[2], id, member)
  redis.call('ZADD', KEYS[3], 0, member)
  i = i + 3
end
while i <= #ARGV do
  local id = ARGV[i]
  local old = redis.call('HGET', KEYS[2], id)
  if old then redis.call('ZREM', KEYS[3], old) end
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  i = i + 1
end
return 0`;

/** Width of the expiry prefix of a sub:expiry member: ms since epoch, zero-padded so byte order is numeric order. */
const EXPIRY_DIGITS = 16;

function orderMember(expiresAt: number, id: string): string {
  return String(Math.max(0, expiresAt)).padStart(EXPIRY_DIGITS, '0') + id;
}

type Reply = string | number | null | Reply[];

class RedisStore implements Store {
  readonly kind = 'redis';
  private closed = false;

  constructor(private readonly client: RedisClientType, private readonly location: RedisLocation) {}

  async nextVersion(key: string): Promise<number> {
    return Number(await this.command(['HINCRBY', K.version, key, '1']));
  }

  async savePresence(record: PresenceRecord): Promise<boolean> {
    const json = JSON.stringify(record);
    return (await this.command(['EVAL', SAVE_PRESENCE, '2', K.presence, K.presenceVersion, record.name, json, String(record.version)])) === 1;
  }

  async deletePresence(name: string): Promise<void> {
    await this.transaction([['HDEL', K.presence, name], ['HDEL', K.presenceVersion, name]]);
  }

  async loadPresence(): Promise<PresenceRecord[]> {
    const values = (await this.command(['HVALS', K.presence])) as string[];
    return values.map((json) => JSON.parse(json) as PresenceRecord).sort((a, b) => compareCodePoints(a.name, b.name));
  }

  async getPresence(name: string): Promise<PresenceRecord | undefined> {
    const json = (await this.command(['HGET', K.presence, name])) as string | null;
    return json === null ? undefined : (JSON.parse(json) as PresenceRecord);
  }

  async saveDeviceState(record: DeviceStateRecord): Promise<boolean> {
    const json = JSON.stringify(record);
    return (await this.command(['EVAL', SAVE_PRESENCE, '2', K.device, K.deviceVersion, record.name, json, String(record.version)])) === 1;
  }

  async loadDeviceStates(): Promise<DeviceStateRecord[]> {
    const values = (await this.command(['HVALS', K.device])) as string[];
    return values.map((json) => JSON.parse(json) as DeviceStateRecord).sort((a, b) => compareCodePoints(a.name, b.name));
  }

  async getDeviceState(name: string): Promise<DeviceStateRecord | undefined> {
    const json = (await this.command(['HGET', K.device, name])) as string | null;
    return json === null ? undefined : (JSON.parse(json) as DeviceStateRecord);
  }

  async writeSubscriptions(upserts: SubscriptionRecord[], deletes: string[]): Promise<void> {
    if (upserts.length === 0 && deletes.length === 0) {
      this.assertOpen();
      return;
    }
    const args = [String(upserts.length)];
    for (const { id, expiresAt, data, owner } of upserts) args.push(id, orderMember(expiresAt, id), JSON.stringify({ expiresAt, data, owner }));
    args.push(...deletes);
    await this.command(['EVAL', WRITE_SUBSCRIPTIONS, '3', K.sub, K.subOrder, K.subExpiry, ...args]);
  }

  async loadSubscriptions(page: SubscriptionPage = {}): Promise<SubscriptionRecord[]> {
    const { after, limit } = page;
    const from = after === undefined ? '+' : `(${orderMember(after.expiresAt, after.id)}`;
    const range = ['ZRANGE', K.subExpiry, from, '-', 'BYLEX', 'REV'];
    if (limit !== undefined) range.push('LIMIT', '0', String(limit));
    const members = (await this.command(range)) as string[];
    if (members.length === 0) return [];
    const ids = members.map((member) => member.slice(EXPIRY_DIGITS));
    const values = (await this.command(['HMGET', K.sub, ...ids])) as (string | null)[];
    const records: SubscriptionRecord[] = [];
    values.forEach((json, index) => {
      if (json === null) return; // deleted between the two reads
      const { expiresAt, data, owner } = JSON.parse(json) as Omit<SubscriptionRecord, 'id'>;
      records.push({ id: ids[index], expiresAt, data, owner });
    });
    return records;
  }

  async purgeExpiredSubscriptions(now: number): Promise<number> {
    const members = (await this.command(['ZRANGE', K.subExpiry, '-', `(${orderMember(now + 1, '')}`, 'BYLEX'])) as string[];
    if (members.length === 0) return 0;
    await this.writeSubscriptions([], members.map((member) => member.slice(EXPIRY_DIGITS)));
    return members.length;
  }

  async savePublication(record: PublicationRecord, replaces?: string): Promise<void> {
    const steps: string[][] = [];
    if (replaces !== undefined && replaces !== record.etag) steps.push(...(await this.removalOf(replaces)));
    const { etag, name } = record;
    steps.push(['HSET', K.pub, etag, JSON.stringify(record)], ['HSET', K.pubName, etag, name],
      ['ZADD', K.pubExpiry, String(record.expiresAt), etag], ['SADD', K.pubOf(name), etag]);
    // A record saved again under another name leaves its old name's set.
    const previous = (await this.command(['HGET', K.pubName, etag])) as string | null;
    if (previous !== null && previous !== name) steps.unshift(['SREM', K.pubOf(previous), etag]);
    await this.transaction(steps);
  }

  async deletePublication(etag: string): Promise<void> {
    const steps = await this.removalOf(etag);
    if (steps.length > 0) await this.transaction(steps);
  }

  async loadPublications(): Promise<PublicationRecord[]> {
    const values = (await this.command(['HVALS', K.pub])) as string[];
    return values.map((json) => JSON.parse(json) as PublicationRecord);
  }

  async getPublications(name: string): Promise<PublicationRecord[]> {
    const etags = (await this.command(['SMEMBERS', K.pubOf(name)])) as string[];
    if (etags.length === 0) return [];
    const values = (await this.command(['HMGET', K.pub, ...etags])) as (string | null)[];
    return values.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as PublicationRecord);
  }

  async purgeExpiredPublications(now: number): Promise<number> {
    const etags = (await this.command(['ZRANGE', K.pubExpiry, '-inf', String(now), 'BYSCORE'])) as string[];
    for (const etag of etags) await this.deletePublication(etag);
    return etags.length;
  }

  async saveDocument(record: DocumentRecord, replaces?: string): Promise<void> {
    if (replaces === undefined || replaces === record.key) await this.command(['HSET', K.documents, record.key, record.data]);
    else await this.transaction([['HDEL', K.documents, replaces], ['HSET', K.documents, record.key, record.data]]);
  }

  async deleteDocument(key: string): Promise<void> {
    await this.command(['HDEL', K.documents, key]);
  }

  /** The documents are few and small (the panel's list and settings): one hash, read whole. */
  async loadDocuments(prefix: string): Promise<DocumentRecord[]> {
    const keys = ((await this.command(['HKEYS', K.documents])) as string[]).filter((key) => key.startsWith(prefix));
    if (keys.length === 0) return [];
    const values = (await this.command(['HMGET', K.documents, ...keys])) as (string | null)[];
    const records: DocumentRecord[] = [];
    values.forEach((data, index) => {
      if (data !== null) records.push({ key: keys[index], data });
    });
    return records.sort((a, b) => compareCodePoints(a.key, b.key));
  }

  async renewLease(node: string, untilMs: number): Promise<void> {
    await this.command(['HSET', K.lease, node, String(untilMs)]);
  }

  async expiredLeases(now: number): Promise<string[]> {
    // node-redis answers HGETALL with an object.
    const leases = (await this.command(['HGETALL', K.lease])) as unknown as Record<string, string>;
    return Object.entries(leases).filter(([, until]) => Number(until) < now).map(([node]) => node);
  }

  async takeOver(node: string, now: number): Promise<boolean> {
    return (await this.command(['EVAL', TAKE_OVER, '1', K.lease, node, String(now)])) === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close().catch(() => this.client.destroy());
  }

  /** The commands that remove a publication from every key (none when it is not stored). */
  private async removalOf(etag: string): Promise<string[][]> {
    const name = (await this.command(['HGET', K.pubName, etag])) as string | null;
    if (name === null) return [];
    return [['HDEL', K.pub, etag], ['HDEL', K.pubName, etag], ['ZREM', K.pubExpiry, etag], ['SREM', K.pubOf(name), etag]];
  }

  /** MULTI/EXEC through the client, which queues the whole block at once: no other caller's command lands inside. */
  private async transaction(steps: string[][]): Promise<void> {
    this.assertOpen();
    const multi = this.client.multi();
    for (const step of steps) multi.addCommand(step);
    try {
      await multi.exec();
    } catch (error) {
      throw unavailable(this.location, error);
    }
  }

  private async command(args: string[]): Promise<Reply> {
    this.assertOpen();
    try {
      return (await this.client.sendCommand(args)) as Reply;
    } catch (error) {
      throw unavailable(this.location, error);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.kind);
  }
}

/** A failed Redis call as the front ends show it: 503, naming the server and the reason. */
export function unavailable(location: RedisLocation, error: unknown): PresencedError {
  const reason = (error as Error).message || (error as Error).name || String(error);
  return new PresencedError(ERRORS.STORE_UNREACHABLE, `${location.shown}: ${reason}`);
}

/**
 * A client that fails fast while disconnected (so a CLI change is refused at once rather than queued) and keeps
 * reconnecting in the background once it has connected; the first connection must succeed.
 */
export async function connectRedis(location: RedisLocation, name: string): Promise<RedisClientType> {
  let connected = false;
  const client = createClient({
    url: location.url,
    name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 3000,
      reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(100 * 2 ** Math.min(retries, 5), 2000) : cause),
    },
  }) as RedisClientType;
  // Without a listener an 'error' event would end the process; reconnection is reported by the owner.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new Error(`cannot connect to ${location.shown}: ${(error as Error).message || String(error)}`, { cause: error });
  }
  connected = true;
  return client;
}

/** A node clock this far from Redis's is warned about at start. */
const CLOCK_SKEW_WARNING_MS = 2000;

/**
 * Connects, checks the schema version (claiming an empty database) and this node's clock against Redis's (`now`:
 * this node's time, ms since epoch), and returns the store.
 */
export async function openRedisStore(location: RedisLocation, warn: (message: string) => void = () => undefined, now: () => number = Date.now): Promise<Store> {
  const client = await connectRedis(location, 'presenced-store');
  try {
    await client.sendCommand(['SET', K.schema, String(REDIS_SCHEMA_VERSION), 'NX']);
    const schema = (await client.sendCommand(['GET', K.schema])) as string;
    if (schema !== String(REDIS_SCHEMA_VERSION)) {
      throw new Error(`${location.shown} holds presenced data of schema version ${schema}, this presenced uses ${REDIS_SCHEMA_VERSION}; use another database or upgrade every node alike`);
    }
    const [seconds, micros] = (await client.sendCommand(['TIME'])) as [string, string];
    const skewMs = now() - (Number(seconds) * 1000 + Math.round(Number(micros) / 1000));
    if (Math.abs(skewMs) > CLOCK_SKEW_WARNING_MS) {
      warn(`this node's clock is ${(Math.abs(skewMs) / 1000).toFixed(1)} s ${skewMs > 0 ? 'ahead of' : 'behind'} ${location.shown}'s: expiries and leases are judged by each node's clock; run NTP on every node`);
    }
  } catch (error) {
    client.destroy();
    throw error instanceof PresencedError ? new Error(error.message) : error;
  }
  return new RedisStore(client, location);
}
