// D3: a full disk. The daemon runs in its own mount namespace with its data directory on a small tmpfs that the test
// fills: a SUBSCRIBE the store cannot write is not acknowledged (503), the batch that failed is kept and written once
// space returns, and a PUBLISH is refused without changing anything.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { ApiClient } from '../helpers/http-client.js';
import { effectivePresence, publish, rpidBody } from '../helpers/publish.js';
import { makeTempDir, removeDir, runCli, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually, UdpSipClient } from '../helpers/sip-client.js';
import { canMountSmallDisk, fill, onSmallDisk, queryStore } from '../helpers/small-disk.js';

/** The subscription ids in the daemon's store. */
function storedIds(disk: string, copyDir: string): string[] {
  return queryStore(disk, copyDir, (db) => (db.prepare('SELECT id FROM subscriptions').all() as Array<{ id: string }>).map((row) => row.id));
}

describe('integration: a full disk (D3)', function () {
  this.timeout(40000);
  let workDir: string;
  let server: PresenceServer | undefined;
  let client: UdpSipClient | undefined;

  before(async function () {
    // Without mount namespaces (util-linux missing, user namespaces off) there is no disk to fill safely.
    if (!canMountSmallDisk()) this.skip();
    workDir = await makeTempDir('presenced-itest-disk-');
  });

  after(async function () {
    await client?.close();
    await server?.stop();
    if (workDir) await removeDir(workDir);
  });

  it('answers 503 instead of acknowledging what it cannot store, and writes the kept batch once space returns', async function () {
    const dataDir = path.join(workDir, 'data');
    server = await startServer({ dataDir, launcher: onSmallDisk(dataDir), args: ['--http', '127.0.0.1:0'] });
    const api = new ApiClient(server.httpPort);
    // The daemon's view of its data directory: the tmpfs.
    const disk = `/proc/${server.pid}/root${dataDir}`;
    client = await UdpSipClient.open(server.udpPort);
    const before = await client.subscribeDialog({ fromUser: 'before' });
    await eventually(() => storedIds(disk, workDir).includes(before.toTag), 5000, 'the first subscription on disk');

    const filler = path.join(disk, 'filler');
    await fill(filler);
    const during = await client.subscribeDialog({ fromUser: 'during' });
    await eventually(() => server!.stderr().includes('subscription change(s) failed'), 10000, 'the failed write in the log');
    expect(storedIds(disk, workDir)).not.to.include(during.toTag);

    const refused = await client.subscribe({ fromUser: 'refused' });
    expect(refused.response.status).to.equal(503);
    expect(refused.response.reason).to.equal('Service Unavailable (the store cannot write)');
    expect(refused.response.header('Retry-After')).to.equal('60');
    const published = await publish(client, { body: rpidBody('away') });
    expect(published.status).to.equal(503);
    // A load balancer's health check sends new phones elsewhere meanwhile.
    const failing = await api.request('/healthz');
    expect(failing.status).to.equal(503);
    expect(failing.json).to.deep.equal({ status: 'unavailable', checks: { store: 'failing: writes are refused or being retried', overload: 'ok' } });
    // The control socket is on the tmpfs too.
    expect(await effectivePresence({ ...server, cli: (args) => runCli(disk, args) }, '6002')).to.equal('not_set');

    await rm(filler);
    await eventually(() => server!.stderr().includes('subscription writes work again'), 20000, 'the retried write');
    expect(storedIds(disk, workDir)).to.have.members([before.toTag, during.toTag]);
    expect((await client.subscribe({ fromUser: 'after' })).response.status).to.equal(200);
    expect((await api.request('/healthz')).status).to.equal(200);
  });
});
