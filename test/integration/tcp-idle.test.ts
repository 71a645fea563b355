// Idle TCP connections are closed (--tcp-idle-timeout), except those a live subscription's NOTIFYs travel over.
import { expect } from 'chai';
import { startServer, type PresenceServer } from '../helpers/server.js';
import { eventually, TcpSipClient } from '../helpers/sip-client.js';
import { parsePidf } from '../helpers/wire.js';

describe('integration: TCP idle timeout', function () {
  let server: PresenceServer;
  const clients: TcpSipClient[] = [];

  before(async function () {
    server = await startServer({ args: ['--tcp-idle-timeout', '1'] });
  });

  after(async function () {
    for (const client of clients) await client.close();
    await server?.stop();
  });

  async function connect(): Promise<TcpSipClient> {
    const client = await TcpSipClient.connect(server.tcpPort);
    clients.push(client);
    return client;
  }

  it('closes a connection that carries no subscription once it is idle', async function () {
    const client = await connect();
    expect((await client.request(client.buildRequest('OPTIONS'))).status).to.equal(200);
    await eventually(() => client.isClosed, 8000, 'the server to close the idle connection');
  });

  it('keeps a connection that carries a subscription open past the idle timeout and notifies over it', async function () {
    const watcher = await connect();
    const dialog = await watcher.subscribeDialog({ user: '6002' });
    await dialog.nextNotify();
    // A second connection used after the watcher's last traffic: once it is closed for idleness, the watcher's
    // connection has been idle longer than the timeout too.
    const idle = await connect();
    expect((await idle.request(idle.buildRequest('OPTIONS'))).status).to.equal(200);
    await eventually(() => idle.isClosed, 8000, 'the idle connection to close');
    expect(watcher.isClosed, 'the subscription connection was closed').to.equal(false);
    const change = await server.cli(['change', 'CustomPresence:6002', 'dnd,,kept open']);
    expect(change.code, change.stderr).to.equal(0);
    const notify = await dialog.nextNotify();
    expect(parsePidf(notify.body).notes).to.include('kept open');
  });
});
