// The HTTP API on a full disk: a change the store cannot write is answered 500 INTERNAL from the error registry, is
// logged once, and changes nothing — neither what the API and the event stream show nor what is stored. The daemon
// runs with its data directory on a small tmpfs in its own mount namespace that the test fills (as the SIP test of a
// full disk does).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { ApiClient, EventStreamReader, expectError } from '../helpers/http-client.js';
import { makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { canMountSmallDisk, fill, onSmallDisk, queryStore } from '../helpers/small-disk.js';

const ADMIN: [string, string] = ['supervisor', 'super-secret'];

interface Entry { id: number; type: string; message: string }

describe('integration: HTTP changes on a full disk', function () {
  this.timeout(40000);
  let workDir: string;
  let server: PresenceServer | undefined;
  let stream: EventStreamReader | undefined;

  before(async function () {
    if (!canMountSmallDisk()) this.skip();
    workDir = await makeTempDir('presenced-itest-http-disk-');
  });

  after(async function () {
    await stream?.close();
    await server?.stop();
    if (workDir) await removeDir(workDir);
  });

  it('answers 500 INTERNAL for a presence or state list change it cannot store, and keeps the stored state', async function () {
    const dataDir = path.join(workDir, 'data');
    server = await startServer({ dataDir, launcher: onSmallDisk(dataDir), amiConfig: 'fixtures/http/manager.conf', args: ['--http', '127.0.0.1:0'] });
    const disk = `/proc/${server.pid}/root${dataDir}`;
    const api = new ApiClient(server.httpPort);
    const storedPresence = (): unknown => queryStore(disk, workDir, (db) => db.prepare("SELECT state, message FROM presence WHERE name = '6002'").get());
    const storedList = (): Entry[] => (JSON.parse(queryStore(disk, workDir, (db) =>
      (db.prepare("SELECT data FROM documents WHERE key = 'panel/states'").get() as { data: string }).data)) as { entries: Entry[] }).entries;

    expect((await api.request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'away', message: 'Lunch' } })).status).to.equal(200);
    const listBefore = (await api.request<Entry[]>('/api/v1/states')).json;
    stream = await EventStreamReader.open(server.httpPort, { basic: ADMIN });

    const filler = path.join(disk, 'filler');
    await fill(filler);
    const refused = await api.request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'dnd', message: 'In a meeting' } });
    expectError(refused, 500, 'INTERNAL');
    expectError(await api.request('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'xa', message: 'On holiday' } }), 500, 'INTERNAL');

    expect((await api.request('/api/v1/presence/6002', { basic: ADMIN })).json).to.deep.include({ state: 'away', message: 'Lunch' });
    expect((await api.request<Entry[]>('/api/v1/states')).json).to.deep.equal(listBefore);
    expect(storedPresence()).to.deep.equal({ state: 'away', message: 'Lunch' });
    expect(storedList()).to.deep.equal(listBefore);
    expect(server.stderr()).to.match(/http: PUT \/api\/v1\/presence\/6002 failed/);

    // Space returns: the same change is stored, and the event stream saw only that one.
    await rm(filler);
    expect((await api.request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'dnd', message: 'In a meeting' } })).status).to.equal(200);
    expect(storedPresence()).to.deep.equal({ state: 'dnd', message: 'In a meeting' });
    expect(JSON.parse((await stream.next('presence')).data)).to.deep.include({ name: '6002', state: 'dnd', message: 'In a meeting' });
    expect(stream.pending().filter((event) => event.event === 'states')).to.deep.equal([]);
  });
});
