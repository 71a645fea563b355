// Failover: two presenced daemons on one real redis-server; the node holding a watcher's subscription is killed
// with SIGKILL, and the survivor tells the watcher `terminated;reason=deactivated` (RFC 6665 §4.1.3) from the dialog
// state in Redis, so the phone subscribes again at once — to the live node (docs/CLUSTER.md).
import { createClient } from '@redis/client';
import { expect } from 'chai';
import { startServer, type PresenceServer } from '../helpers/server.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';
import { digiumState } from '../helpers/publish.js';

describe('integration: failover between two nodes on one Redis', function () {
  this.timeout(60000);
  let redis: RedisServer;
  let survivor: PresenceServer;
  let doomed: PresenceServer;
  let watcher: UdpSipClient;
  let redisClient: ReturnType<typeof createClient>;

  function node(name: string): Promise<PresenceServer> {
    return startServer({ config: 'fixtures/integration/presence.conf', args: ['--store', redis.url(0), '--node-id', name, '--lease', '1'] });
  }

  before(async function () {
    redis = await startRedis();
    redisClient = createClient({ url: redis.url(0) });
    await redisClient.connect();
    survivor = await node('node-a');
    doomed = await node('node-b');
    watcher = await UdpSipClient.open(doomed.udpPort);
  });

  after(async function () {
    await watcher?.close();
    await redisClient?.close();
    await survivor?.stop();
    await doomed?.stop();
    await redis?.close();
  });

  it('tells the watchers of a killed node to subscribe again, and they do so with the survivor', async function () {
    const dialog = await watcher.subscribeDialog({ user: '6002', userAgent: 'Digium D65' });
    await dialog.nextNotify();
    // The subscription is in Redis, owned by node-b, before the node dies.
    await eventually(async () => /"owner":"node-b"/.test(String(await redisClient.sendCommand(['HGET', 'presenced:sub', dialog.toTag]))), 10000, 'the record in Redis');

    await doomed.kill();
    const final = await dialog.nextNotify(15000).catch((error: Error) => { throw new Error(`${error.message}\nsurvivor: ${survivor.stderr()}`); });
    expect(final.header('Subscription-State')).to.equal('terminated;reason=deactivated');
    expect(final.header('Event')).to.equal('presence');
    await eventually(async () => Number(await redisClient.sendCommand(['HEXISTS', 'presenced:sub', dialog.toTag])) === 0, 10000, 'the record deleted');
    expect(survivor.stderr()).to.contain('cluster: node "node-b" stopped renewing its lease; told its 1 watcher(s) to subscribe again');

    // The phone subscribes again (through the proxy, in a real deployment) and the survivor serves it.
    const again = await UdpSipClient.open(survivor.udpPort);
    try {
      const renewed = await again.subscribeDialog({ user: '6002', userAgent: 'Digium D65' });
      await renewed.nextNotify();
      expect((await survivor.cli(['change', 'CustomPresence:6002', 'away,,after failover'])).code).to.equal(0);
      expect(digiumState(await renewed.nextNotify())?.text).to.equal('after failover');
    } finally {
      await again.close();
    }
  });
});
