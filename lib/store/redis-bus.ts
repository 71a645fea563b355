/**
 * The Redis backend of the ChangeBus: Redis pub/sub on one channel. Pub/sub delivers in order per connection but
 * forgets what it sends while a subscriber is away, so each time the subscriber connection comes back the listeners
 * are told to re-read everything (resync).
 */
import type { RedisClientType } from '@redis/client';
import { BusClosedError, decodeChange, encodeChange, type BusListener, type ChangeBus, type StateChange } from './change-bus.js';
import type { RedisLocation } from './redis-url.js';
import { connectRedis, unavailable } from './redis-store.js';

export const CHANGE_CHANNEL = 'presenced:changes';

class RedisBus implements ChangeBus {
  readonly kind = 'redis';
  private readonly listeners = new Set<BusListener>();
  private closed = false;

  constructor(
    private readonly publisher: RedisClientType,
    private readonly subscriber: RedisClientType,
    private readonly location: RedisLocation,
  ) {
    // 'ready' comes again after every reconnection; node-redis has resubscribed the channel by then.
    subscriber.on('ready', () => {
      for (const listener of [...this.listeners]) listener.resync();
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(CHANGE_CHANNEL, (message: string) => this.deliver(message));
  }

  async publish(change: StateChange): Promise<void> {
    if (this.closed) throw new BusClosedError(this.kind);
    try {
      await this.publisher.sendCommand(['PUBLISH', CHANGE_CHANNEL, encodeChange(change)]);
    } catch (error) {
      throw unavailable(this.location, error);
    }
  }

  listen(listener: BusListener): () => void {
    const entry: BusListener = { change: (change) => listener.change(change), resync: () => listener.resync() };
    if (!this.closed) this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await Promise.all([this.publisher, this.subscriber].map((client) => client.close().catch(() => client.destroy())));
  }

  private deliver(message: string): void {
    const change = decodeChange(message);
    // Something else publishing on our channel is ignored: it cannot be a change.
    if (!change) return;
    for (const listener of [...this.listeners]) listener.change({ ...change });
  }
}

/** Two connections: pub/sub takes a connection over, so publishing needs its own. */
export async function openRedisBus(location: RedisLocation): Promise<ChangeBus> {
  const publisher = await connectRedis(location, 'presenced-bus');
  let subscriber: RedisClientType;
  try {
    subscriber = await connectRedis(location, 'presenced-bus-sub');
  } catch (error) {
    publisher.destroy();
    throw error;
  }
  const bus = new RedisBus(publisher, subscriber, location);
  await bus.start();
  return bus;
}
