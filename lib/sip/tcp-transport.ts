import net from 'node:net';
import { StreamFramer } from './framer.js';
import type { Flow, Target, Transport, TransportEvents } from './transport.js';
import type { Logger } from '../util/log.js';

export interface TcpLimits {
  /** Largest message (header section + body) accepted on a connection. */
  maxMessageBytes: number;
  /** Connections open at once; further ones are refused. */
  maxConnections: number;
  /** A connection with no traffic for this long is closed unless `keepOpen` says it carries live dialogs. */
  idleTimeoutMs: number;
  /** Bytes queued to a peer that does not read; past this the connection is dropped (backpressure). */
  maxQueuedBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxMessageBytes: 64 * 1024,
  maxConnections: 10_000,
  idleTimeoutMs: 600_000,
  maxQueuedBytes: 1024 * 1024,
};

interface Connection { id: number; socket: net.Socket; flow: Flow }

/** RFC 3261 §18 over TCP: Content-Length framing (§18.3), CRLF keep-alives (RFC 5626 §4.4.1), connection reuse. */
export class TcpTransport implements Transport {
  readonly protocol = 'TCP' as const;
  address = { host: '', port: 0 };
  private server: net.Server | undefined;
  private readonly connections = new Map<number, Connection>();
  private nextId = 1;
  private events: TransportEvents | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly log: Logger,
    private readonly limits: TcpLimits = DEFAULT_TCP_LIMITS,
    /** Connections that carry live subscriptions are not closed for idleness. */
    private readonly keepOpen: (connectionId: number) => boolean = () => false,
  ) {}

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
    const connection = flow.connectionId === undefined ? undefined : this.connections.get(flow.connectionId);
    if (connection && !connection.socket.destroyed) return this.write(connection, data);
    if (!fallback) return false;
    const socket = net.connect({ host: fallback.host, port: fallback.port });
    const opened = this.attach(socket, fallback.host, fallback.port);
    // Later messages of the dialog reuse the new connection.
    flow.connectionId = opened.id;
    flow.remoteHost = fallback.host;
    flow.remotePort = fallback.port;
    this.log.debug(`tcp: opened connection ${opened.id} to ${fallback.host}:${fallback.port}`);
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

  private attach(socket: net.Socket, remoteHost: string, remotePort: number): Connection {
    const id = this.nextId++;
    const connection: Connection = {
      id,
      socket,
      flow: { protocol: 'TCP', remoteHost, remotePort, localHost: this.address.host, localPort: this.address.port, connectionId: id },
    };
    this.connections.set(id, connection);
    socket.setNoDelay(true);
    const framer = new StreamFramer(this.limits.maxMessageBytes, {
      message: (raw) => this.events?.message(raw, connection.flow),
      // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a single CRLF pong.
      keepAlive: () => this.write(connection, '\r\n'),
      error: (reason) => {
        this.log.warn(`tcp: closing connection ${id} from ${remoteHost}:${remotePort}: ${reason}`);
        socket.destroy();
      },
    });
    socket.on('data', (chunk) => framer.push(chunk));
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (this.keepOpen(id)) return;
      this.log.debug(`tcp: closing idle connection ${id}`);
      socket.destroy();
    });
    socket.on('error', (error) => this.log.debug(`tcp: connection ${id}: ${error.message}`));
    socket.on('close', () => this.connections.delete(id));
    return connection;
  }

  private write(connection: Connection, data: string | Buffer): boolean {
    const socket = connection.socket;
    if (socket.writableLength > this.limits.maxQueuedBytes) {
      this.log.warn(`tcp: dropping connection ${connection.id}: peer is not reading (${socket.writableLength} bytes queued)`);
      socket.destroy();
      return false;
    }
    socket.write(data);
    return true;
  }
}
