import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import type { Flow, Transport, TransportEvents } from './transport.js';

/**
 * Destinations are nearly always IP literals (a source address, or a Via `received`): answer those at once instead
 * of through dns.lookup, which defers every send to a later tick. Names still go to the resolver.
 */
function literalFirstLookup(address: string, family: number | dns.LookupOneOptions, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
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

/** Outgoing messages are encoded into slabs of this size (see UdpTransport.encode). */
const SLAB_BYTES = 256 * 1024;

/** RFC 3261 §18 over UDP: one socket, one datagram per message. */
export class UdpTransport implements Transport {
  readonly protocol = 'UDP' as const;
  private socket: dgram.Socket | undefined;
  address = { host: '', port: 0 };
  private slab = Buffer.allocUnsafe(0);
  private slabOffset = SLAB_BYTES;

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
      events.message(data, {
        protocol: 'UDP',
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

  send(flow: Flow, data: string): boolean {
    if (!this.socket) return false;
    this.socket.send(this.encode(data), flow.remotePort, flow.remoteHost);
    return true;
  }

  /**
   * The message as UTF-8 in a slice of a large slab: one copy, instead of dgram's Buffer.from (which measures the
   * string, then writes it into an 8 KiB pool that it replaces every few messages). A slab region is written once
   * and never reused, so a send the kernel defers still sends the right bytes; the slab is freed with its last slice.
   */
  private encode(data: string): Buffer {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const worst = 3 * data.length;
    if (worst > SLAB_BYTES / 4) return Buffer.from(data);
    if (this.slabOffset + worst > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.slabOffset = 0;
    }
    const start = this.slabOffset;
    const length = this.slab.write(data, start, 'utf8');
    this.slabOffset = start + length;
    return this.slab.subarray(start, start + length);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }
}
