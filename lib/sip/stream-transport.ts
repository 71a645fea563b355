import net from 'node:net';
import { StreamFramer } from './framer.js';
import { rebindFlow, TCP, type Connection, type Flow, type Target, type Transport, type TransportEvents, type TransportKind } from './transport.js';
import type { Logger } from '../util/log.js';

export interface StreamLimits {
  /** Largest message (header section + body) accepted on a connection. */
  maxMessageBytes: number;
  /** Connections open at once; further ones are refused. */
  maxConnections: number;
  /** A connection with no traffic for this long is closed unless subscriptions pin it. */
  idleTimeoutMs: number;
  /** Bytes queued to a peer that does not read; past this the connection is dropped (backpressure). */
  maxQueuedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxMessageBytes: 64 * 1024,
  maxConnections: 10_000,
  idleTimeoutMs: 600_000,
  maxQueuedBytes: 1024 * 1024,
};

/**
 * How a stream transport gets its sockets: plain TCP here; TLS is the same transport with a factory built on
 * node:tls (its server hands over sockets once the handshake is done).
 */
export interface StreamFactory {
  readonly kind: TransportKind;
  /** A server that hands every accepted socket, ready for SIP, to `accept`. */
  createServer(accept: (socket: net.Socket) => void): net.Server;
  /** A new outgoing connection to `target`. */
  connect(target: Target): net.Socket;
}

export const TCP_STREAMS: StreamFactory = {
  kind: TCP,
  createServer: (accept) => net.createServer(accept),
  connect: (target) => net.connect({ host: target.host, port: target.port }),
};

class StreamConnection implements Connection {
  pins = 0;
  closed = false;
  constructor(readonly id: number, readonly socket: net.Socket, readonly flow: Flow) {}
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

  constructor(
    private readonly streams: StreamFactory,
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
  ) {
    this.kind = streams.kind;
    this.name = streams.kind.via.toLowerCase();
  }

  listen(events: TransportEvents): Promise<void> {
    this.events = events;
    const server = this.streams.createServer((socket) => this.accept(socket));
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
    if (!fallback) return false;
    const opened = this.attach(this.streams.connect(fallback), fallback.host, fallback.port);
    // Later messages of the dialog, and of every subscription sharing the flow, reuse the new connection.
    rebindFlow(flow, opened, fallback.host, fallback.port);
    this.log.debug(`${this.name}: opened connection ${opened.id} to ${fallback.host}:${fallback.port}`);
    return this.write(opened, data);
  }

  async close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.attach(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0);
  }

  private attach(socket: net.Socket, remoteHost: string, remotePort: number): StreamConnection {
    const id = this.nextId++;
    const flow: Flow = { kind: this.kind, remoteHost, remotePort, localHost: this.address.host, localPort: this.address.port };
    const connection = new StreamConnection(id, socket, flow);
    flow.connection = connection;
    this.connections.set(id, connection);
    socket.setNoDelay(true);
    const framer = new StreamFramer(this.limits.maxMessageBytes, {
      message: (raw) => this.events?.message(raw, connection.flow),
      // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a single CRLF pong.
      keepAlive: () => this.write(connection, '\r\n'),
      error: (reason) => {
        this.log.warn(`${this.name}: closing connection ${id} from ${remoteHost}:${remotePort}: ${reason}`);
        socket.destroy();
      },
    });
    socket.on('data', (chunk) => framer.push(chunk));
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (connection.pins > 0) return;
      this.log.debug(`${this.name}: closing idle connection ${id}`);
      socket.destroy();
    });
    socket.on('error', (error) => this.log.debug(`${this.name}: connection ${id}: ${error.message}`));
    socket.on('close', () => {
      connection.closed = true;
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
