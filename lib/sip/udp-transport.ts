import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { ReceiveQueueProbe } from './receive-queue-probe.js';
import { UDP, type Flow, type Transport, type TransportEvents } from './transport.js';
import { encodeMessage } from './wire-encoder.js';

/**
 * Destinations are nearly always IP literals (a source address, or a Via `received`): answer those at once instead
 * of through dns.lookup, which defers every send to a later tick. Names still go to the resolver.
 */
export function literalFirstLookup(address: string, family: number | dns.LookupOneOptions, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  // A fan-out sends to the same few addresses over and over: remember the last literal instead of testing each again.
  if (address === lastLiteral) {
    callback(null, address, lastLiteralFamily);
    return;
  }
  const literal = net.isIP(address);
  if (literal !== 0) {
    lastLiteral = address;
    lastLiteralFamily = literal;
    callback(null, address, literal);
  } else {
    dns.lookup(address, family as dns.LookupOneOptions, callback);
  }
}
let lastLiteral = '';
let lastLiteralFamily = 4;

/** RFC 3261 §18 over UDP: one socket, one datagram per message. */
export class UdpTransport implements Transport {
  readonly kind = UDP;
  private socket: dgram.Socket | undefined;
  address = { host: '', port: 0 };
  private readonly probe = new ReceiveQueueProbe((probe) => this.socket?.send(probe, this.address.port, selfAddress(this.address.host)));

  constructor(private readonly host: string, private readonly port: number, private readonly bufferBytes = 4 * 1024 * 1024) {}

  listen(events: TransportEvents): Promise<void> {
    const socket = dgram.createSocket({
      type: net.isIPv6(this.host) ? 'udp6' : 'udp4',
      recvBufferSize: this.bufferBytes,
      sendBufferSize: this.bufferBytes,
      lookup: literalFirstLookup,
    });
    this.socket = socket;
    socket.on('message', (data, rinfo) => {
      if (this.probe.take(data)) return;
      events.message(data, {
        kind: UDP,
        remoteHost: rinfo.address,
        remotePort: rinfo.port,
        localHost: this.address.host,
        localPort: this.address.port,
      });
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.port, this.host, () => {
        socket.off('error', reject);
        // A send to an unreachable peer surfaces as an asynchronous error on some systems; it must never end the server.
        socket.on('error', () => undefined);
        const bound = socket.address();
        this.address = { host: bound.address, port: bound.port };
        resolve();
      });
    });
  }

  /** How long datagrams wait in this socket's receive queue now, ms (overload control); 0 before it is bound. */
  queueDelayMs(): number {
    return this.socket && this.address.port !== 0 ? this.probe.delayMs() : 0;
  }

  send(flow: Flow, data: string | Buffer): boolean {
    if (!this.socket) return false;
    this.socket.send(typeof data === 'string' ? encodeMessage(data) : data, flow.remotePort, flow.remoteHost);
    return true;
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }
}

/** Where a socket bound to `host` reaches itself: a wildcard address through loopback. */
function selfAddress(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
