/**
 * Node ownership with failover (docs/CLUSTER.md): each node renews a lease in the shared store; a node that finds
 * another's lease run out takes it over — exactly one survivor wins the store's atomic takeOver — and ends the
 * dead node's subscriptions with `terminated;reason=deactivated` (RFC 6665 §4.1.3), so its phones subscribe again at
 * once, through the proxy in front, to a live node, instead of waiting for their subscriptions to expire.
 */
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';

export interface NodeLeaseOptions {
  store: Store;
  node: string;
  /** How long a lease lasts; it is renewed every third of it, so a node is taken over 1–1⅓ leases after it died. */
  leaseMs: number;
  log: Logger;
  /** Ends the subscriptions `node` owned; resolves how many watchers were told. */
  adopt: (node: string) => Promise<number>;
}

export class NodeLeases {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(private readonly options: NodeLeaseOptions) {}

  /** Takes the first lease (a store that cannot is a start failure), then renews and watches in the background. */
  async start(): Promise<void> {
    const { store, node, leaseMs } = this.options;
    await store.renewLease(node, Date.now() + leaseMs);
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.round());
    }, Math.max(1, Math.floor(leaseMs / 3))).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async round(): Promise<void> {
    const { store, node, leaseMs, log } = this.options;
    try {
      await store.renewLease(node, Date.now() + leaseMs);
      for (const other of await store.expiredLeases(Date.now())) {
        if (other === node || !(await store.takeOver(other, Date.now()))) continue;
        const told = await this.options.adopt(other);
        log.warn(`cluster: node ${JSON.stringify(other)} stopped renewing its lease; told its ${told} watcher(s) to subscribe again (terminated;reason=deactivated)`);
      }
      if (this.failing) log.info('cluster: the lease is renewed again');
      this.failing = false;
    } catch (error) {
      // Logged once per episode: the store being out of reach is logged by the store's users too.
      if (!this.failing) log.warn(`cluster: cannot renew this node's lease or check the others: ${(error as Error).message}`);
      this.failing = true;
    }
  }
}
