// The machine's baseline for a fan-out: plain datagrams of the NOTIFYs' size, sent from one socket as fast as Node
// can, round-robin to the watcher sockets. No parsing, no answers: what the kernel and the event loop allow.
import dgram from 'node:dgram';
import { monotonicMs } from './clock.js';
import { RAW_MARKER, SOCKET_BUFFER_BYTES } from './sip-ua.js';

/** Sends `count` datagrams of `bytes` each and returns when the first one was sent (monotonic ms). */
export async function sendRawBurst(host: string, ports: readonly number[], count: number, bytes: number): Promise<number> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const datagram = Buffer.alloc(Math.max(bytes, RAW_MARKER.length), 'x');
  datagram.write(RAW_MARKER, 0, 'latin1');
  const startedAt = monotonicMs();
  let sent = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < count; i++) {
      socket.send(datagram, ports[i % ports.length]!, host, () => {
        if (++sent === count) resolve();
      });
    }
    if (count === 0) resolve();
  });
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return startedAt;
}
