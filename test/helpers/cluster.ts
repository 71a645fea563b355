// Two presenced daemons sharing a real redis-server (docs/CLUSTER.md), for the describe that calls useTwoNodes.
import { startRedis, type RedisServer } from './redis.js';
import { startServer, type PresenceServer } from './server.js';
import { UdpSipClient } from './sip-client.js';

export interface TwoNodes {
  redis: RedisServer;
  /** --node-id node-a */
  nodeA: PresenceServer;
  /** --node-id node-b */
  nodeB: PresenceServer;
  /** A UDP client of node A. */
  clientA: UdpSipClient;
  /** A UDP client of node B. */
  clientB: UdpSipClient;
}

/**
 * Starts a redis-server, then two nodes serving `dialplan` on it and a client of each, before the tests of the current
 * describe; stops them all after. `extraArgs` gives a node more options by its name (read when it starts). The
 * accessor is valid inside its tests.
 */
export function useTwoNodes(dialplan: string, extraArgs: (node: string) => string[] = () => []): () => TwoNodes {
  const nodes: Partial<TwoNodes> = {};
  const node = (name: string): Promise<PresenceServer> =>
    startServer({ config: dialplan, args: ['--store', nodes.redis!.url(0), '--node-id', name, ...extraArgs(name)] });
  before(async function () {
    nodes.redis = await startRedis();
    nodes.nodeA = await node('node-a');
    nodes.nodeB = await node('node-b');
    nodes.clientA = await UdpSipClient.open(nodes.nodeA.udpPort);
    nodes.clientB = await UdpSipClient.open(nodes.nodeB.udpPort);
  });
  after(async function () {
    await nodes.clientA?.close();
    await nodes.clientB?.close();
    await nodes.nodeA?.stop();
    await nodes.nodeB?.stop();
    await nodes.redis?.close();
  });
  return () => {
    if (!nodes.clientB) throw new Error('the two nodes are not running here (used outside a test, or their hook failed)');
    return nodes as TwoNodes;
  };
}
