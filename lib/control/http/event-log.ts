/**
 * Server-Sent Events for the panel: every event gets an id `<epoch>-<n>` and is kept a few minutes, so a client
 * reconnecting with `Last-Event-ID` is sent what it missed; one whose id is from another run of the server, or
 * older than what is kept, is told to `resync` (read everything again). Each stream sees only what its caller may
 * see. A stream that cannot keep up (its socket buffer over a limit) is closed; the client reconnects and replays.
 */
import type { ServerResponse } from 'node:http';
import type { Caller } from './accounts.js';

export interface EventLogSettings {
  /** Events are kept this long for replay... */
  keepMs: number;
  /** ...and at most this many. */
  keepCount: number;
  /** Open streams at most (more: 503). */
  maxStreams: number;
  /** A comment line this often keeps proxies and browsers from timing out. */
  heartbeatMs: number;
  /** Bytes a stream may have waiting in its socket before it is closed as too slow. */
  maxBufferedBytes: number;
}

export const DEFAULT_EVENT_LOG: EventLogSettings = { keepMs: 5 * 60_000, keepCount: 10_000, maxStreams: 10_000, heartbeatMs: 15_000, maxBufferedBytes: 1 << 20 };

/** Who an event is for: the callers for whom it returns true. */
export type Audience = (stream: EventStream) => boolean;

interface LoggedEvent { seq: number; at: number; text: string; audience: Audience }

export interface EventStream {
  readonly caller: Caller;
  readonly response: ServerResponse;
}

export class EventLog {
  /** Ids of another run never match: this run's epoch is in every id. */
  private readonly epoch = Date.now().toString(36);
  private seq = 0;
  private readonly events: LoggedEvent[] = [];
  private readonly streams = new Set<EventStream>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly settings: EventLogSettings = DEFAULT_EVENT_LOG) {
    this.heartbeat = setInterval(() => this.broadcastComment(), settings.heartbeatMs).unref();
  }

  get size(): number {
    return this.streams.size;
  }

  get full(): boolean {
    return this.streams.size >= this.settings.maxStreams;
  }

  /** Records an event and writes it to every open stream in its audience. */
  publish(type: string, data: unknown, audience: Audience): void {
    const seq = ++this.seq;
    const now = Date.now();
    const event = { seq, at: now, text: `id: ${this.epoch}-${seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`, audience };
    this.events.push(event);
    this.forget(now);
    for (const stream of this.streams) if (audience(stream)) this.write(stream, event.text);
  }

  /** Starts a stream: the headers, then what it missed since `lastEventId` (or `resync`). */
  open(stream: EventStream, lastEventId: string | undefined): void {
    stream.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.streams.add(stream);
    stream.response.once('close', () => this.streams.delete(stream));
    let text = 'retry: 2000\n\n';
    if (lastEventId !== undefined && lastEventId !== '') {
      const missed = this.missedSince(lastEventId);
      if (missed === undefined) text += `event: resync\ndata: {}\n\n`;
      else for (const event of missed) if (event.audience(stream)) text += event.text;
    }
    this.write(stream, text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const stream of this.streams) stream.response.end();
    this.streams.clear();
  }

  /** The events after `lastEventId`; undefined when they cannot be known (another run, or forgotten). */
  private missedSince(lastEventId: string): LoggedEvent[] | undefined {
    const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    if (!match || match[1] !== this.epoch) return undefined;
    const seen = Number(match[2]);
    if (seen > this.seq) return undefined;
    const oldest = this.events[0]?.seq ?? this.seq + 1;
    if (seen < oldest - 1) return undefined;
    return this.events.filter((event) => event.seq > seen);
  }

  private forget(now: number): void {
    let drop = 0;
    while (drop < this.events.length && (this.events.length - drop > this.settings.keepCount || now - this.events[drop].at > this.settings.keepMs)) drop++;
    if (drop > 0) this.events.splice(0, drop);
  }

  private broadcastComment(): void {
    this.forget(Date.now());
    for (const stream of this.streams) this.write(stream, ': ping\n\n');
  }

  private write(stream: EventStream, text: string): void {
    const { response } = stream;
    if (response.writableEnded || response.destroyed) return;
    if (response.writableLength > this.settings.maxBufferedBytes) {
      response.destroy();
      return;
    }
    response.write(text);
  }
}
