// The panel's API over real HTTP: the administrator's state list (FreePBX's defaults, persisted), the directory,
// and the live event stream with Last-Event-ID replay.
import { expect } from 'chai';
import { ApiClient, EventStreamReader, expectError } from '../helpers/http-client.js';
import { makeTempDir, removeDir, startServer } from '../helpers/server.js';
import { useServer } from '../helpers/suite.js';

const ADMIN: [string, string] = ['supervisor', 'super-secret'];
const OPTIONS = { amiConfig: 'fixtures/http/manager.conf', args: ['--http', '127.0.0.1:0'] };

interface Entry { id: number; type: string; message: string }


describe('integration: HTTP panel API', function () {
  const server = useServer(OPTIONS);
  const api = (): ApiClient => new ApiClient(server().httpPort);
  const streams: EventStreamReader[] = [];
  const openStream = async (options: Parameters<typeof EventStreamReader.open>[1] = {}): Promise<EventStreamReader> => {
    const stream = await EventStreamReader.open(server().httpPort, options);
    streams.push(stream);
    return stream;
  };
  afterEach(async function () {
    for (const stream of streams.splice(0)) await stream.close();
  });

  describe('the state list', function () {
    it("starts with FreePBX's defaults: one entry per type, no messages", async function () {
      const response = await api().request<Entry[]>('/api/v1/states');
      expect(response.status).to.equal(200);
      expect(response.json.map(({ type, message }) => `${type}:${message}`)).to.deep.equal(
        ['available:', 'chat:', 'away:', 'dnd:', 'xa:', 'unavailable:'],
      );
    });

    it('lets administrators add, change, reorder and remove entries; order is kept', async function () {
      const added = await api().request<Entry>('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'away', message: 'Lunch' } });
      expect(added.status, added.text).to.equal(201);
      expect(added.json).to.deep.include({ type: 'away', message: 'Lunch' });
      const meeting = await api().request<Entry>('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'dnd', message: 'In a meeting', before: added.json.id } });
      let list = (await api().request<Entry[]>('/api/v1/states')).json;
      expect(list.slice(-2).map((entry) => entry.message)).to.deep.equal(['In a meeting', 'Lunch']);
      const changed = await api().request<Entry>(`/api/v1/states/${meeting.json.id}`, { method: 'PUT', basic: ADMIN, body: { type: 'dnd', message: 'In the board meeting' } });
      expect(changed.json).to.deep.equal({ id: meeting.json.id, type: 'dnd', message: 'In the board meeting' });
      const order = list.map((entry) => entry.id).reverse();
      const reordered = await api().request<Entry[]>('/api/v1/states', { method: 'PUT', basic: ADMIN, body: { order } });
      expect(reordered.json.map((entry) => entry.id)).to.deep.equal(order);
      expect((await api().request(`/api/v1/states/${meeting.json.id}`, { method: 'DELETE', basic: ADMIN })).status).to.equal(204);
      list = (await api().request<Entry[]>('/api/v1/states')).json;
      expect(list.map((entry) => entry.id)).to.deep.equal(order.filter((id) => id !== meeting.json.id));
    });

    it('refuses changes from anyone but administrators, bad entries, unknown ids and incomplete orders', async function () {
      expectError(await api().request('/api/v1/states', { method: 'POST', body: { type: 'away' } }), 403, 'READ_ONLY');
      expect(expectError(await api().request('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'asleep' } }), 400, 'INVALID_VALUE')).to.contain('body/type');
      expect(expectError(await api().request('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'away', message: 'x'.repeat(81) } }), 400, 'INVALID_VALUE')).to.contain('body/message');
      expectError(await api().request('/api/v1/states/9999', { method: 'DELETE', basic: ADMIN }), 404, 'NO_SUCH_STATE_ENTRY');
      expectError(await api().request('/api/v1/states/9999', { method: 'PUT', basic: ADMIN, body: { type: 'away' } }), 404, 'NO_SUCH_STATE_ENTRY');
      expect(expectError(await api().request('/api/v1/states', { method: 'PUT', basic: ADMIN, body: { order: [1] } }), 400, 'INVALID_VALUE')).to.contain('body/order');
      expectError(await api().request('/api/v1/me/settings', { basic: ADMIN }), 403, 'USERS_ONLY');
    });
  });

  describe('the directory', function () {
    it('lists the extensions of the context with hint, extension state and presence', async function () {
      await server().cli(['change', 'CustomPresence:2000', 'xa,,On holiday']);
      const response = await api().request<Array<Record<string, unknown>>>('/api/v1/extensions');
      expect(response.status).to.equal(200);
      const byExtension = new Map(response.json.map((row) => [row.extension, row]));
      expect([...byExtension.keys()].sort()).to.deep.equal(['2000', '6002', '6003', '7000']);
      expect(byExtension.get('6003')).to.deep.equal({
        extension: '6003', context: 'default', name: '6003', hint: 'PJSIP/6003,CustomPresence:6002', extensionState: 'Idle',
        presence: { name: '6002', state: 'not_set', subtype: '', message: '' },
      });
      expect(byExtension.get('2000')?.presence).to.deep.equal({ name: '2000', state: 'xa', subtype: '', message: 'On holiday' });
      expect(byExtension.get('7000')?.context).to.equal('shared');
    });
  });

  describe('the event stream', function () {
    it('sends every visible presence change with its source, and state list changes', async function () {
      const stream = await openStream();
      expect(stream.status).to.equal(200);
      expect(stream.contentType).to.match(/^text\/event-stream/);
      // 8000 is in a context the anonymous reader does not see: its change must not reach the stream.
      await api().request('/api/v1/presence/8000', { method: 'PUT', basic: ADMIN, body: { state: 'away' } });
      await api().request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'dnd', message: 'Call me later' } });
      const first = await stream.next('presence');
      expect(JSON.parse(first.data)).to.deep.equal({ name: '6002', state: 'dnd', subtype: '', message: 'Call me later', source: 'http:supervisor' });
      expect(first.id).to.match(/^[0-9a-z]+-\d+$/);
      await server().cli(['change', 'CustomPresence:7000', 'chat']);
      expect(JSON.parse((await stream.next('presence')).data)).to.deep.include({ name: '7000', state: 'chat', source: 'cli' });
      await api().request('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'xa', message: 'On holiday' } });
      const states = JSON.parse((await stream.next('states')).data) as { entries: Entry[] };
      expect(states.entries.at(-1)).to.deep.include({ type: 'xa', message: 'On holiday' });
    });

    it('replays what a reconnecting client missed after its Last-Event-ID, and asks for a resync when it cannot', async function () {
      const stream = await openStream({ basic: ADMIN });
      await server().cli(['change', 'CustomPresence:2000', 'away,,one']);
      const seen = await stream.next('presence');
      await stream.close();
      await server().cli(['change', 'CustomPresence:2000', 'away,,two']);
      await server().cli(['change', 'CustomPresence:8000', 'away,,three']);
      const again = await openStream({ basic: ADMIN, lastEventId: seen.id });
      expect(JSON.parse((await again.next('presence')).data).message).to.equal('two');
      expect(JSON.parse((await again.next('presence')).data).message).to.equal('three');
      const stale = await openStream({ lastEventId: 'zzzz-1' });
      await stale.next('resync');
      const garbage = await openStream({ lastEventId: 'not an id' });
      await garbage.next('resync');
    });

    it('needs a caller: 401 for a wrong password', async function () {
      const stream = await openStream({ basic: ['supervisor', 'nope'] });
      expect(stream.status).to.equal(401);
    });
  });
});

describe('integration: HTTP panel state list across a restart', function () {
  it('keeps the administrator\'s list in the store', async function () {
    const dataDir = await makeTempDir();
    try {
      const first = await startServer({ ...OPTIONS, dataDir });
      const api = new ApiClient(first.httpPort);
      const added = await api.request<Entry>('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'away', message: 'Lunch' } });
      await first.stop();
      const second = await startServer({ ...OPTIONS, dataDir });
      try {
        const list = await new ApiClient(second.httpPort).request<Entry[]>('/api/v1/states');
        expect(list.json.at(-1)).to.deep.equal(added.json);
        expect(list.json).to.have.lengthOf(7);
      } finally {
        await second.stop();
      }
    } finally {
      await removeDir(dataDir);
    }
  });
});
