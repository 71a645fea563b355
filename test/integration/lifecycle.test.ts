// The daemon over time: subscriptions expiring, config reload on SIGHUP, and states surviving restarts.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';
import type { SubscribeOptions, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf, subscriptionState } from '../helpers/wire.js';

async function watch(client: UdpSipClient, options: SubscribeOptions): Promise<{ dialog: WatcherDialog; body: string }> {
  const { response, dialog } = await client.subscribe(options);
  expect(response.status).to.equal(200);
  if (!dialog) throw new Error('the 200 has no To tag');
  return { dialog, body: (await dialog.nextNotify()).body };
}

function digiumText(body: string): string | undefined {
  return parsePidf(body).tuples.find((tuple) => tuple.id === 'digium-presence')?.digium?.text;
}

describe('integration: daemon lifecycle', function () {
  const servers: PresenceServer[] = [];
  const clients: UdpSipClient[] = [];

  async function start(...args: Parameters<typeof startServer>): Promise<{ server: PresenceServer; client: UdpSipClient }> {
    const server = await startServer(...args);
    servers.push(server);
    const client = await UdpSipClient.open(server.udpPort);
    clients.push(client);
    return { server, client };
  }

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('terminates a subscription that is not refreshed (RFC 6665 §4.2.2)', async function () {
    const { client } = await start({ minExpires: 1, defaultExpires: 2 });
    const { response, dialog } = await client.subscribe({ expires: 2 });
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    expect(subscriptionState(await dialog.nextNotify()).state).to.equal('active');
    const last = await dialog.nextNotify(8000);
    expect(subscriptionState(last)).to.include({ state: 'terminated', reason: 'timeout' });
  });

  it('reloads the dialplan on SIGHUP: new hints answer, watchers of removed hints are told', async function () {
    const { server, client } = await start();
    const { dialog: removedWatcher } = await watch(client, { user: '6003' });
    expect((await client.subscribe({ user: '6050' })).response.status).to.equal(404);

    await copyFile(path.resolve(process.cwd(), 'fixtures/integration/presence-reloaded.conf'), server.configFile);
    server.signal('SIGHUP');
    await eventually(async () => (await server.cli(['hints'])).stdout.includes('6050@default'), 8000, 'hint 6050 after SIGHUP');

    expect((await client.subscribe({ user: '6050' })).response.status).to.equal(200);
    const ended = await removedWatcher.nextNotify(8000);
    expect(subscriptionState(ended)).to.include({ state: 'terminated', reason: 'noresource' });
  });

  describe('persistence', function () {
    let dataDir: string;

    before(async function () {
      dataDir = await makeTempDir();
    });

    after(async function () {
      await removeDir(dataDir);
    });

    it('keeps states across a SIGTERM restart', async function () {
      const first = await start({ dataDir });
      const change = await first.server.cli(['change', 'CustomPresence:6002', 'away,at home,Persisted on SIGTERM']);
      expect(change.code, change.stderr).to.equal(0);
      expect(await first.server.stop()).to.deep.equal({ code: 0, signal: null });

      const second = await start({ dataDir });
      const listing = await second.server.cli(['list']);
      expect(listing.stdout).to.include("'CustomPresence:6002'").and.to.include('Persisted on SIGTERM');
      const { body } = await watch(second.client, { user: '6002', userAgent: 'Digium D65' });
      expect(digiumText(body)).to.equal('Persisted on SIGTERM');
    });

    it('keeps a state set right before a SIGKILL', async function () {
      const first = await start({ dataDir });
      const change = await first.server.cli(['change', 'CustomPresence:6002', 'dnd,,Persisted on SIGKILL']);
      expect(change.code, change.stderr).to.equal(0);
      await first.server.kill();

      const second = await start({ dataDir });
      const listing = await second.server.cli(['list']);
      expect(listing.stdout).to.include('Persisted on SIGKILL');
      const { body } = await watch(second.client, { user: '6002', userAgent: 'Digium D65' });
      expect(digiumText(body)).to.equal('Persisted on SIGKILL');
    });
  });
});
