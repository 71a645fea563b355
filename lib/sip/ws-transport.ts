import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { checkUpgrade, refuseUpgrade, SIP_SUBPROTOCOL, type HandshakePolicy } from './ws-handshake.js';
import type { Connection, Flow, Transport, TransportEvents, TransportKind } from './transport.js';
import type { Logger } from '../util/log.js';
import { DEFAULT_WS_LIMITS, type WsLimits } from './ws-limits.js';

export { DEFAULT_WS_LIMITS, type WsLimits } from './ws-limits.js';

/** How the listener is made: `http.createServer` for WS, `https.createServer` with the certificate for WSS. */
export type HttpServerFactory = () => http.Server;

class WsConnection implements Connection {
  pins = 0;
  closed = false;
  /** SIP traffic since the last idle check; a pong since the last ping. */
  active = true;
  alive = true;
  constructor(readonly id: number, readonly socket: WebSocket, readonly flow: Flow) {}
}

/** A start line: a request ("SUBSCRIBE sip:… SIP/2.0") or a status line ("SIP/2.0 200 OK"). */
const SIP_START = /^(?:[A-Za-z]+ \S+ SIP\/2\.0|SIP\/2\.0 \d{3})/;
/** RFC 5626 §4.4.1 double-CRLF ping, which SIP.js and JsSIP also send over WebSocket. */
const CRLF_PING = /^(?:\r\n)+$/;

/**
 * SIP over WebSocket (RFC 7118) on the `ws` package: one SIP message per text or binary frame, replies down the same
 * socket. Never dials out: a client's Contact host is a `.invalid` name.
 */
export class WsTransport implements Transport {
  address = { host: '', port: 0 };
  private server: http.Server | undefined;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<number, WsConnection>();
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;
  private events: TransportEvents | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private lastIdleCheck = Date.now();
  private readonly name: string;
  /** 0 turns the idle close off. */
  private readonly idleTimeoutMs: number;

  constructor(
    readonly kind: TransportKind,
    private readonly createServer: HttpServerFactory,
    private readonly host: string,
    private readonly port: number,
    private readonly policy: HandshakePolicy,
    private readonly log: Logger,
    private readonly limits: WsLimits = DEFAULT_WS_LIMITS,
  ) {
    this.name = kind.via.toLowerCase();
    this.idleTimeoutMs = limits.idleTimeoutMs > 0 ? limits.idleTimeoutMs : 2 ** 31 - 1;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: () => SIP_SUBPROTOCOL,
    });
  }

  listen(events: TransportEvents): Promise<void> {
    this.events = events;
    const server = this.createServer();
    this.server = server;
    server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
      response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
      response.end('this is a SIP WebSocket service (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n');
    });
    server.on('clientError', (_error, socket: Duplex) => socket.destroy());
    this.sweep = setInterval(() => this.keepAlive(), Math.min(this.limits.pingIntervalMs, this.idleTimeoutMs));
    this.sweep.unref();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        const bound = server.address() as { address: string; port: number };
        this.address = { host: bound.address, port: bound.port };
        resolve();
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Takes an HTTP upgrade request (from our own listener, or from another HTTP server that routes `/ws` here):
   * refused with an HTTP status, or made a SIP WebSocket connection.
   */
  upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const remoteHost = request.socket.remoteAddress ?? '';
    const refusal = checkUpgrade(request, this.policy) ?? this.checkLimits(remoteHost);
    if (refusal) {
      this.log.debug(`${this.name}: refused upgrade from ${remoteHost}: ${refusal.status} ${refusal.detail}`);
      refuseUpgrade(socket, refusal, refusal.status === 503 ? { 'Retry-After': '30' } : {});
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws, remoteHost, request.socket.remotePort ?? 0));
  }

  send(flow: Flow, data: string | Buffer): boolean {
    const connection = flow.connection === undefined ? undefined : this.connections.get(flow.connection.id);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) return false;
    const socket = connection.socket;
    if (socket.bufferedAmount > this.limits.maxQueuedBytes) {
      this.log.warn(`${this.name}: dropping connection ${connection.id}: peer is not reading (${socket.bufferedAmount} bytes queued)`);
      socket.terminate();
      return false;
    }
    // Text frames: SIP is UTF-8, and browser clients read text frames as strings.
    socket.send(data, { binary: false });
    return true;
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const connection of this.connections.values()) connection.socket.terminate();
    this.connections.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private checkLimits(remoteHost: string): { status: number; reason: string; detail: string } | undefined {
    if (this.connections.size >= this.limits.maxConnections) {
      return { status: 503, reason: 'Service Unavailable', detail: `too many WebSocket connections (${this.limits.maxConnections})` };
    }
    if ((this.perAddress.get(remoteHost) ?? 0) >= this.limits.maxPerAddress) {
      return { status: 503, reason: 'Service Unavailable', detail: `too many WebSocket connections from ${remoteHost} (${this.limits.maxPerAddress})` };
    }
    return undefined;
  }

  private attach(socket: WebSocket, remoteHost: string, remotePort: number): void {
    const id = this.nextId++;
    const flow: Flow = { kind: this.kind, remoteHost, remotePort, localHost: this.address.host, localPort: this.address.port };
    const connection = new WsConnection(id, socket, flow);
    flow.connection = connection;
    this.connections.set(id, connection);
    this.perAddress.set(remoteHost, (this.perAddress.get(remoteHost) ?? 0) + 1);
    socket.on('message', (data: RawData) => this.receive(connection, data));
    socket.on('pong', () => (connection.alive = true));
    // Frames over the limit, bad UTF-8, protocol violations: ws closes the connection; one line says why.
    socket.on('error', (error: Error & { code?: string }) => this.log.warn(`${this.name}: closing connection ${id} from ${remoteHost}: ${error.message}${error.code ? ` (${error.code})` : ''}`));
    socket.on('close', () => {
      connection.closed = true;
      this.connections.delete(id);
      const left = (this.perAddress.get(remoteHost) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(remoteHost);
      else this.perAddress.set(remoteHost, left);
      this.events?.closed?.(connection);
    });
  }

  private receive(connection: WsConnection, data: RawData): void {
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    connection.active = true;
    const start = raw.subarray(0, 64).toString('latin1');
    if (CRLF_PING.test(start) && raw.length <= 64) {
      connection.socket.send('\r\n');
      return;
    }
    // Something that is not SIP at all (not a message the parser could explain) ends the connection, logged once.
    if (!SIP_START.test(start)) {
      this.log.warn(`${this.name}: closing connection ${connection.id} from ${connection.flow.remoteHost}: a frame that is not a SIP message`);
      connection.socket.close(1002, 'not a SIP message');
      return;
    }
    this.events?.message(raw, connection.flow);
  }

  /** Pings every connection; drops those that did not answer the last ping, and idle ones no subscription pins. */
  private keepAlive(): void {
    const now = Date.now();
    const idleCheck = now - this.lastIdleCheck >= this.idleTimeoutMs;
    if (idleCheck) this.lastIdleCheck = now;
    for (const connection of this.connections.values()) {
      const socket = connection.socket;
      if (!connection.alive) {
        this.log.info(`${this.name}: dropping connection ${connection.id} from ${connection.flow.remoteHost}: no pong`);
        socket.terminate();
        continue;
      }
      if (idleCheck) {
        if (!connection.active && connection.pins === 0) {
          this.log.debug(`${this.name}: closing idle connection ${connection.id}`);
          socket.close(1001, 'idle');
          continue;
        }
        connection.active = false;
      }
      connection.alive = false;
      socket.ping();
    }
  }
}
