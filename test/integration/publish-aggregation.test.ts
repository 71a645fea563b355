// Several publications and the CLI setting for one presentity, combined by "the most recently changed source
// wins", publications expiring, and publications surviving a restart.
import { expect } from 'chai';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { UdpSipClient } from '../helpers/sip-client.js';
import type { WatcherDialog } from '../helpers/sip-client.js';
import { digiumState, effectivePresence, publish, rpidBody } from '../helpers/publish.js';

describe('integration: PUBLISH aggregation, expiry and restart', function () {
  const servers: PresenceServer[] = [];
  const clients: UdpSipClient[] = [];

  async function start(dataDir?: string): Promise<{ server: PresenceServer; client: UdpSipClient }> {
    const server = await startServer({ config: 'fixtures/integration/publish.conf', minExpires: 1, dataDir });
    servers.push(server);
    const client = await UdpSipClient.open(server.udpPort);
    clients.push(client);
    return { server, client };
  }

  async function watch(client: UdpSipClient, user = '6002'): Promise<WatcherDialog> {
    const { response, dialog } = await client.subscribe({ user, userAgent: 'Digium D65' });
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    await dialog.nextNotify();
    return dialog;
  }

  async function change(server: PresenceServer, value: string): Promise<void> {
    const result = await server.cli(['change', 'CustomPresence:6002', value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  async function publishOk(client: UdpSipClient, options: Parameters<typeof publish>[1]): Promise<string> {
    const response = await publish(client, options);
    expect(response.status, response.raw).to.equal(200);
    return response.header('SIP-ETag')!;
  }

  async function nextState(watcher: WatcherDialog, timeoutMs?: number): Promise<string | undefined> {
    const digium = digiumState(await watcher.nextNotify(timeoutMs));
    return digium && [digium.type, digium.subtype, digium.text].join(',');
  }

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  it('combines a desk phone, a softphone and the CLI setting: the most recently changed source wins', async function () {
    const { server, client } = await start();
    const watcher = await watch(client);

    await change(server, 'xa,,cli');
    expect(await nextState(watcher)).to.equal('xa,,cli');

    const desk = await publishOk(client, { body: rpidBody('busy', 'desk') });
    expect(await nextState(watcher)).to.equal('dnd,,desk');
    const softphone = await publishOk(client, { body: rpidBody('away', 'softphone') });
    expect(await nextState(watcher)).to.equal('away,,softphone');

    // `presencestate list` and `hints` agree: the effective state, with the publication it comes from.
    const listing = await server.cli(['list']);
    expect(listing.stdout).to.match(/State:\s*'away'/);
    expect(listing.stdout).to.include(`Source: 'PUBLISH ${softphone} from `);
    expect(await effectivePresence(server, '6002')).to.equal('away');

    await change(server, 'chat,,cli again');
    expect(await nextState(watcher)).to.equal('chat,,cli again');

    const deskModified = await publishOk(client, { etag: desk, body: rpidBody('meeting', 'desk meeting') });
    expect(await nextState(watcher)).to.equal('dnd,meeting,desk meeting');

    // The desk phone leaves: the CLI setting changed after the softphone's publication, so it counts again.
    await publishOk(client, { etag: deskModified, expires: 0 });
    expect(await nextState(watcher)).to.equal('chat,,cli again');

    // The softphone's publication no longer counts, so removing it changes nothing.
    await publishOk(client, { etag: softphone, expires: 0 });
    await watcher.expectNoNotify(700);
    expect(await effectivePresence(server, '6002')).to.equal('chat');
  });

  it('notifies watchers of the next state when the winning publication expires', async function () {
    const { server, client } = await start();
    const watcher = await watch(client);
    await change(server, 'xa,,cli');
    expect(await nextState(watcher)).to.equal('xa,,cli');

    const published = await publish(client, { expires: 1, body: rpidBody('away', 'short') });
    expect(published.header('Expires')).to.equal('1');
    expect(await nextState(watcher)).to.equal('away,,short');
    expect(await nextState(watcher, 8000)).to.equal('xa,,cli');
    expect((await publish(client, { etag: published.header('SIP-ETag'), expires: 60 })).status).to.equal(412);
  });

  it('keeps a live publication across a restart, even after SIGKILL, and drops expired ones', async function () {
    const dataDir = await makeTempDir('presenced-publish-');
    try {
      const first = await start(dataDir);
      const etag = await publishOk(first.client, { expires: 600, body: rpidBody('vacation', 'Abroad') });
      await publishOk(first.client, { user: '7000', expires: 1, body: rpidBody('away') });
      const shortOneExpired = Date.now() + 1000;
      await first.server.kill();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, shortOneExpired + 100 - Date.now())));

      const second = await start(dataDir);
      expect(await effectivePresence(second.server, '6002')).to.equal('xa');
      const watcher = await watch(second.client);
      expect(await effectivePresence(second.server, '7000')).to.equal('not_set');
      // The entity-tag survives too: the phone's next refresh works.
      const refreshed = await publish(second.client, { etag, expires: 600 });
      expect(refreshed.status).to.equal(200);
      await publishOk(second.client, { etag: refreshed.header('SIP-ETag'), expires: 0 });
      await watcher.nextNotify();
      expect(await effectivePresence(second.server, '6002')).to.equal('not_set');
    } finally {
      await Promise.all(servers.splice(0).map((server) => server.stop()));
      await removeDir(dataDir);
    }
  });
});
