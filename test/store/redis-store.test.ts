import { createClient } from '@redis/client';
import { expect } from 'chai';
import { openChangeBus } from '../../lib/store/change-bus.js';
import { openRedisStore, REDIS_SCHEMA_VERSION } from '../../lib/store/redis-store.js';
import { parseRedisUrl } from '../../lib/store/redis-url.js';
import { openStore, type StoreKind } from '../../lib/store/store.js';
import { busConformance } from './bus-conformance.js';
import { storeConformance } from './conformance.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;

/** Runs one Redis command on a connection of its own. */
async function redisCommand(args: string[], db = 0): Promise<unknown> {
  const client = createClient({ url: redis.url(db) });
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    await client.close();
  }
}

describe('redis backend (a real redis-server)', function () {
  before(async function () {
    redis = await startRedis();
  });

  after(async function () {
    await redis?.close();
  });

  storeConformance('redis', async () => {
    await redisCommand(['FLUSHDB'], 1);
    const kind = redis.url(1) as StoreKind;
    return { store: await openStore(kind, ''), reopen: () => openStore(kind, ''), cleanup: async () => {} };
  });

  busConformance('redis', async () => {
    const kind = redis.url(2);
    return {
      nodes: [await openChangeBus(kind), await openChangeBus(kind)],
      // Redis drops every subscriber connection; node-redis reconnects and subscribes again.
      interrupt: async () => void (await redisCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])),
      cleanup: async () => {},
    };
  });

  describe('opening', function () {
    it('refuses a database holding another presenced schema version, naming both', async function () {
      await redisCommand(['SET', 'presenced:schema', String(REDIS_SCHEMA_VERSION + 1)], 3);
      let failure: unknown;
      await openStore(redis.url(3) as StoreKind, '').catch((error: unknown) => (failure = error));
      expect((failure as Error).message).to.equal(
        `redis://127.0.0.1:${redis.port}/3 holds presenced data of schema version ${REDIS_SCHEMA_VERSION + 1}, this presenced uses ${REDIS_SCHEMA_VERSION}; use another database or upgrade every node alike`);
    });

    it('warns at start when this node\'s clock is far from Redis\'s, saying which way, and opens all the same', async function () {
      const location = parseRedisUrl(redis.url(5));
      for (const [offsetMs, expected] of [[60_000, /^this node's clock is 60\.\d s ahead of redis:\/\/127\.0\.0\.1:\d+\/5's: .*run NTP on every node$/], [-90_000, /is 90\.\d s behind redis/], [0, undefined]] as const) {
        const warnings: string[] = [];
        const store = await openRedisStore(location, (message) => warnings.push(message), () => Date.now() + offsetMs);
        await store.close();
        if (!expected) expect(warnings, 'a clock in step with Redis').to.deep.equal([]);
        else {
          expect(warnings).to.have.length(1);
          expect(warnings[0]).to.match(expected);
        }
      }
    });

    it('claims an empty database with its schema version', async function () {
      await redisCommand(['FLUSHDB'], 4);
      const store = await openStore(redis.url(4) as StoreKind, '');
      await store.close();
      expect(await redisCommand(['GET', 'presenced:schema'], 4)).to.equal(String(REDIS_SCHEMA_VERSION));
    });

    it('fails clearly when nothing listens at the URL', async function () {
      const closedPort = redis.port === 1 ? 2 : 1;
      let failure: unknown;
      await openStore(`redis://127.0.0.1:${closedPort}/0`, '').catch((error: unknown) => (failure = error));
      expect((failure as Error).message).to.match(new RegExp(`^cannot connect to redis://127\\.0\\.0\\.1:${closedPort}/0: .*ECONNREFUSED`));
    });

    it('rejects malformed URLs with a message naming the fault', function () {
      const cases: Array<[string, RegExp]> = [
        ['redis://', /names no host/],
        ['redis://127.0.0.1:6379/16', /database 16 is out of range/],
        ['redis://127.0.0.1:6379/x', /'\/x' is not a database number/],
        ['redis://127.0.0.1:6379/0?timeout=1', /has a query or fragment/],
        ['redis://127.0.0.1:99999', /is not a URL/],
      ];
      for (const [url, message] of cases) expect(() => parseRedisUrl(url), url).to.throw(message);
    });
  });

  describe('while Redis is down', function () {
    it('rejects every call with a 503-coded error naming the server, and works again once Redis is back', async function () {
      const store = await openStore(redis.url(5) as StoreKind, '');
      try {
        await store.savePresence({ name: '6002', state: 'away', subtype: '', message: '', base64: false, updatedAt: 1, version: 1 });
        await redis.stop();
        let failure: unknown;
        await store.nextVersion('CustomPresence:6002').catch((error: unknown) => (failure = error));
        expect(failure).to.include({ code: 'STORE_UNREACHABLE' });
        expect((failure as Error).message).to.contain(`Service Unavailable (the store is unreachable: redis://127.0.0.1:${redis.port}/5:`);
        await redis.restart();
        let stored: unknown;
        for (let attempt = 0; attempt < 100 && stored === undefined; attempt++) {
          stored = await store.getPresence('6002').catch(() => new Promise((resolve) => setTimeout(() => resolve(undefined), 50)));
        }
        expect(stored).to.deep.include({ name: '6002', state: 'away', version: 1 });
      } finally {
        await store.close();
      }
    });
  });
});
