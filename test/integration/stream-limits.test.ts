// D8: connection limits per source address on stream transports, a deadline for completing a message (first message,
// slowloris), and a cap on the partial messages all connections hold, so that one host with idle or trickling
// connections cannot take every slot or the memory.
import net from 'node:net';
import { expect } from 'chai';
import { TcpSipClient } from '../helpers/sip-client.js';
import { useServer } from '../helpers/suite.js';

interface RawConnection { socket: net.Socket; closed: Promise<void> }

async function connect(port: number, localAddress: string): Promise<RawConnection> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, closed };
}

describe('integration: stream connection limits (D8)', function () {
  this.timeout(20000);
  const server = useServer({ args: ['--max-connections-per-source', '3', '--message-timeout', '2', '--max-buffered-bytes', '50000'] });

  it('refuses connections beyond --max-connections-per-source from one address, and serves the others', async function () {
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await connect(server().tcpPort, '127.0.0.2'));
    const refused = await connect(server().tcpPort, '127.0.0.2');
    await refused.closed;
    const client = await TcpSipClient.connect(server().tcpPort);
    try {
      expect((await client.subscribe()).response.status).to.equal(200);
    } finally {
      await client.close();
    }
    for (const connection of held) connection.socket.destroy();
    expect(server().stderr()).to.include('refusing connections from 127.0.0.2: it has 3 open');
  });

  it('closes a connection that sends nothing, and one that trickles a message, after --message-timeout', async function () {
    const silent = await connect(server().tcpPort, '127.0.0.3');
    const trickling = await connect(server().tcpPort, '127.0.0.4');
    trickling.socket.write('OPTIONS sip:6002@127.0.0.1 SIP/2.0\r\n');
    const drip = setInterval(() => trickling.socket.write('X'), 200);
    try {
      await Promise.all([silent.closed, trickling.closed]);
    } finally {
      clearInterval(drip);
    }
    expect(server().stderr()).to.match(/no complete message within 2 s/);
  });

  it('closes the connection whose partial message takes what all connections hold over --max-buffered-bytes', async function () {
    // Two halves of 20 KB fit under 50,000 bytes; a third does not. Each is under --max-request-bytes (32 KiB).
    const partial = `OPTIONS sip:6002@127.0.0.1 SIP/2.0\r\nX-Padding: ${'p'.repeat(20_000)}`;
    const holders = [await connect(server().tcpPort, '127.0.0.5'), await connect(server().tcpPort, '127.0.0.6')];
    for (const holder of holders) holder.socket.write(partial);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await connect(server().tcpPort, '127.0.0.7');
    third.socket.write(partial);
    await third.closed;
    // Only the connection that crossed the cap is closed for it.
    const closedForBuffering = server().stderr().split('\n').filter((line) => line.includes('partial messages of all connections exceed 50000 bytes'));
    expect(closedForBuffering).to.have.length(1);
    expect(closedForBuffering[0]).to.match(/closing connection \d+ from 127\.0\.0\.7:/);
    const client = await TcpSipClient.connect(server().tcpPort);
    try {
      expect((await client.request(client.buildRequest('OPTIONS'))).status).to.equal(200);
    } finally {
      await client.close();
      for (const holder of holders) holder.socket.destroy();
    }
  });
});
