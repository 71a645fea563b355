import net from 'node:net';
import { StreamFramer } from './framer.js';
import { rebindFlow, TCP, type Connection, type Flow, type Target, type Transport, type TransportEvents, type TransportKind } from './transport.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import { KeyedCounter } from '../limits/counter.js';

export interface StreamLimits {
  /** Largest message (header section + body) accepted on a connection. */
  maxMessageBytes: number;
  /** Connections open at once; further ones are refused. */
  maxConnections: number;
  /** A connection with no traffic for this long is closed unless subscriptions pin it. */
  idleTimeoutMs: number;
  /** Bytes queued to a peer that does not read; past this the connection is dropped (backpressure). */
  maxQueuedBytes: number;
  /** Connections from one source address; further ones are refused, so one host cannot take every slot. */
  maxConnectionsPerSource: number;
  /**
   * An accepted connection must complete its first message, and any message once begun must be complete, within
   * this long: a client trickling bytes (slowloris) cannot hold a connection and its buffer.
   */
  messageTimeoutMs: number;
  /** Partial messages buffered over all connections; the connection that would exceed it is closed. */
  maxBufferedBytes: number;
  /** A TLS client must complete its handshake within this long; it counts against maxConnectionsPerSource meanwhile. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxMessageBytes: 64 * 1024,
  maxConnections: 10_000,
  idleTimeoutMs: 600_000,
  maxQueuedBytes: 1024 * 1024,
  maxConnectionsPerSource: 1000,
  messageTimeoutMs: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  handshakeTimeoutMs: 5_000,
};

/**
 * How a stream transport gets its sockets: plain TCP here; TLS is the same transport with a factory built on
 * node:tls (see tls-certificates.ts). Connections are accepted as TCP, so the address gate and the per-source limit
 * apply before a TLS handshake costs anything.
 */
export interface StreamFactory {
  readonly kind: TransportKind;
  /** The socket SIP runs over on an admitted connection, when not the connection itself: it emits 'secure' once ready. */
  secure?(socket: net.Socket): net.Socket;
  /** A new outgoing connection to `target`; absent when the transport does not dial out. */
  connect?(target: Target): net.Socket;
}

export const TCP_STREAMS: StreamFactory = {
  kind: TCP,
  connect: (target) => net.connect({ host: target.host, port: target.port }),
};

/** At most MAX_DIALS_PER_WINDOW new outgoing connections to one address per DIAL_WINDOW_MS. */
const MAX_DIALS_PER_WINDOW = 10;
const DIAL_WINDOW_MS = 10_000;
/** Destinations remembered at once; past this the window starts over for all. */
const MAX_DIAL_DESTINATIONS = 10_000;

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

class StreamConnection implements Connection {
  pins = 0;
  closed = false;
  /** Runs out when an awaited message is not complete in time (see StreamLimits.messageTimeoutMs). */
  private messageTimer: NodeJS.Timeout | undefined;
  constructor(readonly id: number, readonly socket: net.Socket, readonly flow: Flow) {}

  /** Starts the clock for a message, unless it is already running. */
  expectMessage(timeoutMs: number, expired: () => void): void {
    this.messageTimer ??= setTimeout(expired, timeoutMs).unref();
  }

  messageDone(): void {
    if (this.messageTimer) clearTimeout(this.messageTimer);
    this.messageTimer = undefined;
  }
}

/** RFC 3261 §18 over a byte stream: Content-Length framing (§18.3), CRLF keep-alives (RFC 5626 §4.4.1), connection reuse. */
export class StreamTransport implements Transport {
  readonly kind: TransportKind;
  address = { host: '', port: 0 };
  private server: net.Server | undefined;
  private readonly connections = new Map<number, StreamConnection>();
  private nextId = 1;
  private events: TransportEvents | undefined;
  private readonly name: string;
  private readonly perSource = new KeyedCounter();
  private ownAddresses: readonly Target[] = [];
  /** New outgoing connections per destination address in the current window. */
  private readonly dials = new Map<string, { since: number; count: number }>();
  /** Bytes of partial messages held by every connection's framer. */
  private buffered = 0;
  /** Refused and timed-out connections come in floods: one line per interval. */
  private readonly summary: LogSummary;

  constructor(
    private readonly streams: StreamFactory,
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {
    this.kind = streams.kind;
    this.name = streams.kind.via.toLowerCase();
    this.summary = new LogSummary(log);
  }

  listen(events: TransportEvents): Promise<void> {
    this.events = events;
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    server.maxConnections = this.limits.maxConnections;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        const bound = server.address() as net.AddressInfo;
        this.address = { host: bound.address, port: bound.port };
        resolve();
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  send(flow: Flow, data: string | Buffer, fallback?: Target): boolean {
    const connection = flow.connection === undefined ? undefined : this.connections.get(flow.connection.id);
    if (connection && !connection.socket.destroyed) return this.write(connection, data);
    if (!fallback || !this.streams.connect || !this.mayDial(fallback)) return false;
    const opened = this.attach(this.streams.connect(fallback), fallback.host, fallback.port);
    // Later messages of the dialog, and of every subscription sharing the flow, reuse the new connection.
    rebindFlow(flow, opened, fallback.host, fallback.port);
    this.log.debug(`${this.name}: opened connection ${opened.id} to ${fallback.host}:${fallback.port}`);
    return this.write(opened, data);
  }

  /** Addresses this server listens on (every transport, AMI, HTTP): never dialled, whatever a Contact says. */
  refuseDialing(addresses: readonly Target[]): void {
    this.ownAddresses = addresses;
  }

  /** Not one of our own listening addresses, and within the per-destination rate of new connections. */
  private mayDial(target: Target): boolean {
    if (this.ownAddresses.some((own) => own.port === target.port && (own.host === target.host || isWildcard(own.host)))) {
      this.summary.note('warn', `${this.name} connections refused to our own addresses`, () =>
        `${this.name}: not connecting to ${target.host}:${target.port}: it is one of presenced's own listening addresses`);
      return false;
    }
    const now = Date.now();
    let dials = this.dials.get(target.host);
    if (!dials || now - dials.since > DIAL_WINDOW_MS) {
      if (this.dials.size >= MAX_DIAL_DESTINATIONS) this.dials.clear();
      dials = { since: now, count: 0 };
      this.dials.set(target.host, dials);
    }
    if (++dials.count <= MAX_DIALS_PER_WINDOW) return true;
    this.summary.note('warn', `${this.name} connections held back by the per-destination rate`, () =>
      `${this.name}: not connecting to ${target.host} again: ${MAX_DIALS_PER_WINDOW} new connections in ${DIAL_WINDOW_MS / 1000} s`);
    return false;
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    this.summary.stop();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(accepted: net.Socket): void {
    const remoteHost = accepted.remoteAddress;
    if (remoteHost === undefined || (this.events?.admit?.(remoteHost) ?? 'accept') !== 'accept') {
      accepted.destroy();
      return;
    }
    if (this.perSource.count(remoteHost) >= this.limits.maxConnectionsPerSource) {
      this.summary.note('warn', `refused ${this.name} connections`, () =>
        `${this.name}: refusing connections from ${remoteHost}: it has ${this.limits.maxConnectionsPerSource} open`);
      accepted.destroy();
      return;
    }
    const socket = this.streams.secure?.(accepted) ?? accepted;
    const connection = this.attach(socket, remoteHost, accepted.remotePort ?? 0);
    if (socket !== accepted) this.awaitHandshake(connection);
    // The peer speaks first on a connection it opened: it has messageTimeoutMs to send a whole message.
    connection.expectMessage(this.limits.messageTimeoutMs, () => this.messageTimedOut(connection));
  }

  /** A client that does not finish its handshake in time, or fails it, is closed; both are summarised in the log. */
  private awaitHandshake(connection: StreamConnection): void {
    const { socket, id } = connection;
    const from = connection.flow.remoteHost;
    let secured = false;
    const timer = setTimeout(() => {
      this.summary.note('warn', `${this.name} connections closed for not completing the handshake`, () =>
        `${this.name}: closing connection ${id} from ${from}: no handshake within ${this.limits.handshakeTimeoutMs / 1000} s`);
      socket.destroy();
    }, this.limits.handshakeTimeoutMs).unref();
    socket.once('secure', () => {
      secured = true;
      clearTimeout(timer);
    });
    socket.once('close', () => clearTimeout(timer));
    socket.once('error', (error) => {
      if (secured) return;
      // OpenSSL's own words ('no shared cipher', 'wrong version number'), not its multi-line error stack.
      const reason = (error as Error & { reason?: string }).reason ?? error.message;
      this.summary.note('warn', `failed ${this.name} handshakes`, () => `${this.name}: handshake with ${from} failed: ${reason}`);
    });
  }

  private messageTimedOut(connection: StreamConnection): void {
    if (connection.pins > 0) return;
    this.summary.note('warn', `${this.name} connections closed for not completing a message`, () =>
      `${this.name}: closing connection ${connection.id} from ${connection.flow.remoteHost}: no complete message within ${this.limits.messageTimeoutMs / 1000} s`);
    connection.socket.destroy();
  }

  private attach(socket: net.Socket, remoteHost: string, remotePort: number): StreamConnection {
    const id = this.nextId++;
    const flow: Flow = { kind: this.kind, remoteHost, remotePort, localHost: this.address.host, localPort: this.address.port };
    const connection = new StreamConnection(id, socket, flow);
    flow.connection = connection;
    this.connections.set(id, connection);
    this.perSource.add(remoteHost);
    socket.setNoDelay(true);
    const framer = new StreamFramer(this.limits.maxMessageBytes, {
      message: (raw, declaredBytes) => {
        connection.messageDone();
        this.events?.message(raw, connection.flow, declaredBytes);
      },
      // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a single CRLF pong.
      keepAlive: () => this.write(connection, '\r\n'),
      error: (reason) => {
        this.log.warn(`${this.name}: closing connection ${id} from ${remoteHost}:${remotePort}: ${reason}`);
        socket.destroy();
      },
    });
    let held = 0;
    socket.on('data', (chunk) => {
      framer.push(chunk);
      this.buffered += framer.bufferedBytes - held;
      held = framer.bufferedBytes;
      if (held === 0) return;
      connection.expectMessage(this.limits.messageTimeoutMs, () => this.messageTimedOut(connection));
      if (this.buffered > this.limits.maxBufferedBytes) {
        this.summary.note('warn', `${this.name} connections closed for buffering too much`, () =>
          `${this.name}: closing connection ${id} from ${remoteHost}: partial messages of all connections exceed ${this.limits.maxBufferedBytes} bytes`);
        socket.destroy();
      }
    });
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (connection.pins > 0) return;
      this.log.debug(`${this.name}: closing idle connection ${id}`);
      socket.destroy();
    });
    socket.on('error', (error) => this.log.debug(`${this.name}: connection ${id}: ${error.message}`));
    socket.on('close', () => {
      connection.closed = true;
      connection.messageDone();
      this.buffered -= held;
      held = 0;
      this.perSource.remove(remoteHost);
      this.connections.delete(id);
      this.events?.closed?.(connection);
    });
    return connection;
  }

  private write(connection: StreamConnection, data: string | Buffer): boolean {
    const socket = connection.socket;
    if (socket.writableLength > this.limits.maxQueuedBytes) {
      this.log.warn(`${this.name}: dropping connection ${connection.id}: peer is not reading (${socket.writableLength} bytes queued)`);
      socket.destroy();
      return false;
    }
    socket.write(data);
    return true;
  }
}
