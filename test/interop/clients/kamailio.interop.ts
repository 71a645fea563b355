// A real cluster on one machine (docs/CLUSTER.md): Kamailio's dispatcher (record_route) in front of two presenced
// nodes on one real redis-server. SIPp and our own watchers subscribe through Kamailio; a change made on either node
// reaches every watcher; one node is killed with SIGKILL, the survivor tells that node's watchers
// `terminated;reason=deactivated`, and they subscribe again through Kamailio, to the survivor: no watcher is lost.
import { expect } from 'chai';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { startServer, type PresenceServer } from '../../helpers/server.js';
import { UdpSipClient, type WatcherDialog } from '../../helpers/sip-client.js';
import type { SipMessage } from '../../helpers/wire.js';
import { digiumState } from '../../helpers/publish.js';
import { startKamailio, type Kamailio } from '../helpers/kamailio.js';
import { HOST, SIP_PORTS } from '../helpers/ports.js';
import { runSipp } from '../helpers/sipp.js';

const WATCHERS = 6;
const EXTENSION = '2000';

interface Watcher {
  client: UdpSipClient;
  dialog: WatcherDialog;
  /** The SIP port of the node that answered the SUBSCRIBE (its Contact). */
  node: number;
}

/** The node port in a 200's Contact: `<sip:2000@127.0.0.1:25067>`. */
function nodePort(response: SipMessage): number {
  return Number(/:(\d+)[;>]/.exec(response.header('Contact') ?? '')?.[1]);
}

describe('interop: Kamailio dispatcher in front of two presenced nodes on one Redis', function () {
  this.timeout(90_000);
  let redis: RedisServer;
  let kamailio: Kamailio;
  const nodes: PresenceServer[] = [];
  const watchers: Watcher[] = [];
  const [portA, portB] = SIP_PORTS.clusterNodes;

  function startNode(name: string, port: number): Promise<PresenceServer> {
    const address = `${HOST}:${port}`;
    return startServer({
      config: 'fixtures/integration/presence.conf', udp: address, tcp: address,
      args: ['--store', redis.url(0), '--node-id', name, '--lease', '1'],
    });
  }

  /** Subscribes through Kamailio; the dispatcher picks the node. */
  async function subscribeThroughProxy(client: UdpSipClient): Promise<Watcher> {
    const { response, dialog } = await client.subscribe({ user: EXTENSION, userAgent: 'Digium D65' });
    if (!dialog) throw new Error(`SUBSCRIBE through Kamailio not accepted: ${response.status} ${response.reason}\n${kamailio.process.transcript()}`);
    expect(response.header('Record-Route'), 'Kamailio record-routes').to.include(`${HOST}:${SIP_PORTS.kamailio}`);
    await dialog.nextNotify();
    return { client, dialog, node: nodePort(response) };
  }

  /** Sets the state on one node and expects every watcher to be told, whichever node serves it. */
  async function changeOnAndExpectEveryWatcher(node: PresenceServer, text: string): Promise<void> {
    const change = await node.cli(['change', `CustomPresence:${EXTENSION}`, `away,,${text}`]);
    expect(change.code, change.stderr).to.equal(0);
    const seen = await Promise.all(watchers.map(async ({ dialog }) => digiumState(await dialog.nextNotify(10_000))?.text));
    expect(seen).to.deep.equal(watchers.map(() => text));
  }

  before(async function () {
    redis = await startRedis();
    nodes.push(await startNode('node-a', portA), await startNode('node-b', portB));
    kamailio = await startKamailio(SIP_PORTS.kamailio, [portA, portB]);
  });

  after(async function () {
    for (const { client } of watchers) await client.close();
    await kamailio?.stop();
    for (const node of nodes) await node.stop();
    await redis?.close();
  });

  it('carries SIPp watchers to the nodes: refreshes and unsubscribes follow the recorded route, no failed call', async function () {
    const result = await runSipp({
      scenario: 'subscribe-via-proxy.xml', transport: 'UDP', localPort: SIP_PORTS.sippUdp,
      resources: ['6002', '2000', '7000'], calls: 10, rate: 10, remotePort: SIP_PORTS.kamailio,
    });
    expect(result.failed, result.report).to.equal(0);
    expect(result.successful, result.report).to.equal(10);
  });

  it('spreads watchers over both nodes, and a change made on either node reaches every one of them', async function () {
    for (let i = 0; i < WATCHERS; i++) watchers.push(await subscribeThroughProxy(await UdpSipClient.open(SIP_PORTS.kamailio)));
    expect(new Set(watchers.map(({ node }) => node))).to.deep.equal(new Set([portA, portB]));
    await changeOnAndExpectEveryWatcher(nodes[0], 'set on node-a');
    await changeOnAndExpectEveryWatcher(nodes[1], 'set on node-b');
  });

  it('after node-b is killed, its watchers are told to subscribe again, do so through Kamailio to node-a, and all still hear changes', async function () {
    const orphans = watchers.filter(({ node }) => node === portB);
    expect(orphans).to.not.have.length(0);
    await nodes[1].kill();
    for (const orphan of orphans) {
      const final = await orphan.dialog.nextNotify(15_000);
      expect(final.header('Subscription-State')).to.equal('terminated;reason=deactivated');
      // RFC 6665 §4.1.3: deactivated means subscribe again at once; the proxy must now pick the survivor.
      Object.assign(orphan, await subscribeThroughProxy(orphan.client));
      expect(orphan.node).to.equal(portA);
    }
    expect(nodes[0].stderr()).to.contain(`cluster: node "node-b" stopped renewing its lease; told its ${orphans.length} watcher(s) to subscribe again`);
    await changeOnAndExpectEveryWatcher(nodes[0], 'after failover');
  });
});
