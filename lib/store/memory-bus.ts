import { BusClosedError, type BusListener, type ChangeBus, type StateChange } from './change-bus.js';

/** The nodes of one process: what a publish on any of its buses reaches. */
export class MemoryBusHub {
  private readonly listeners = new Set<BusListener>();

  /** A bus for one node of this hub. */
  connect(): ChangeBus {
    return new MemoryBus(this.listeners);
  }
}

/** The in-process default: one node (or several nodes in one process, in tests), nothing to reconnect. */
class MemoryBus implements ChangeBus {
  readonly kind = 'memory';
  private readonly own = new Set<BusListener>();
  private closed = false;

  constructor(private readonly hub: Set<BusListener>) {}

  async publish(change: StateChange): Promise<void> {
    if (this.closed) throw new BusClosedError(this.kind);
    const copy = { ...change };
    // Delivered after the publisher's turn, as from a real bus: no listener runs inside the publisher's call.
    queueMicrotask(() => {
      for (const listener of this.hub) listener.change({ ...copy });
    });
  }

  listen(listener: BusListener): () => void {
    // A wrapper per call, so the same listener object can be added twice and removed independently.
    const entry: BusListener = { change: (change) => listener.change(change), resync: () => listener.resync() };
    if (!this.closed) {
      this.hub.add(entry);
      this.own.add(entry);
    }
    return () => {
      this.hub.delete(entry);
      this.own.delete(entry);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.own) this.hub.delete(entry);
    this.own.clear();
  }
}

/** A bus that reaches only this process's listeners. */
export function createMemoryBus(): ChangeBus {
  return new MemoryBusHub().connect();
}
