import dgram from 'node:dgram';

/** A UDP port on 127.0.0.1 that is free right now (for SIPp's -p, or a peer server's listener). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
