import type { Flow } from '../sip/transport.js';
import { detach, SharedPool } from '../util/strings.js';

/**
 * Flows shared by subscriptions that came the same way: a phone with 50 BLF keys reaches us over one flow, kept once.
 * A shared flow is replaced, not changed, when a watcher moves (refresh from a new address); only a stream transport
 * moves one to a new connection when the old one is gone, which then serves all its subscriptions (and carries
 * their pins, see pinFlow).
 */
export class FlowPool {
  private readonly pool = new SharedPool<Flow>();

  shared(flow: Flow): Flow {
    const key = `${flow.kind.via} ${flow.remoteHost} ${flow.remotePort} ${flow.localHost} ${flow.localPort} ${flow.connection?.id ?? ''}`;
    return this.pool.get(key, () => ({ ...flow, remoteHost: detach(flow.remoteHost), localHost: detach(flow.localHost), pins: 0 }));
  }
}
