// The panel's users over real HTTP: endpoints of --pjsip log in with their SIP credentials (password or md5_cred),
// change only their own presence, keep their on-login and on-logout states, and the on-logout state follows an
// explicit logout, a closed page (beacon) and a last event stream that does not come back within the grace period.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { ApiClient, EventStreamReader, expectError } from '../helpers/http-client.js';
import { useServer } from '../helpers/suite.js';

const ALICE: [string, string] = ['6001', '6001-demo-secret'];
const ADMIN: [string, string] = ['supervisor', 'super-secret'];
const GRACE_S = 1;

interface Entry { id: number; type: string; message: string }


describe('integration: HTTP API users (--pjsip)', function () {
  const server = useServer({
    config: 'fixtures/extensions.conf',
    amiConfig: 'fixtures/http/manager.conf',
    args: ['--http', '127.0.0.1:0', '--pjsip', 'fixtures/pjsip.conf', '--http-logout-grace', String(GRACE_S)],
  });
  const api = (): ApiClient => new ApiClient(server().httpPort);
  const stateOf = async (name: string): Promise<{ state: string; message: string }> =>
    (await api().request<{ state: string; message: string }>(`/api/v1/presence/${name}`, { basic: ADMIN })).json;
  let entries: { lunch: Entry; available: Entry; unavailable: Entry };

  before(async function () {
    const lunch = await api().request<Entry>('/api/v1/states', { method: 'POST', basic: ADMIN, body: { type: 'away', message: 'Lunch' } });
    const list = (await api().request<Entry[]>('/api/v1/states', { basic: ADMIN })).json;
    const byType = (type: string): Entry => list.find((entry) => entry.type === type && entry.message === '') as Entry;
    entries = { lunch: lunch.json, available: byType('available'), unavailable: byType('unavailable') };
  });

  it('logs users in with their SIP password or md5_cred; anonymous callers must log in', async function () {
    expect((await api().request('/api/v1/me', { basic: ALICE })).json).to.deep.equal({ role: 'user', name: '6001', context: 'default', displayName: 'Alice', canChange: true });
    expect((await api().request('/api/v1/me', { basic: ['6003', '6003-demo-secret'] })).json).to.deep.include({ name: '6003', displayName: 'Carol' });
    expectError(await api().request('/api/v1/me', { basic: ['6003', 'guess'] }), 401, 'AUTHENTICATION_FAILED');
    expectError(await api().request('/api/v1/presence'), 401, 'LOGIN_REQUIRED');
    expect(server().stderr()).to.match(/failed to authenticate as '6003' \(wrong password\)/);
  });

  it("lets a user change only their own presence, and shows them their context's states", async function () {
    const own = await api().request('/api/v1/presence/6001', { method: 'PUT', basic: ALICE, body: { state: 'chat', message: 'Ping me' } });
    expect(own.status).to.equal(200);
    expect(expectError(await api().request('/api/v1/presence/6002', { method: 'PUT', basic: ALICE, body: { state: 'dnd' } }), 403, 'NOT_OWN_PRESENCE')).to.contain('6001');
    const names = (await api().request<Array<{ name: string }>>('/api/v1/presence', { basic: ALICE })).json.map((row) => row.name);
    expect(names).to.include.members(['6001', '6002', '6003']);
    const directory = (await api().request<Array<{ extension: string; name: string }>>('/api/v1/extensions', { basic: ALICE })).json;
    expect(directory.find((row) => row.extension === '6002')?.name).to.equal('Bob');
  });

  it('keeps settings; refuses entries that do not exist', async function () {
    expect((await api().request('/api/v1/me/settings', { basic: ALICE })).json).to.deep.include({ onLogin: null, onLogout: null });
    const saved = await api().request('/api/v1/me/settings', { method: 'PUT', basic: ALICE, body: { onLogin: entries.available.id, onLogout: entries.unavailable.id } });
    expect(saved.json).to.deep.include({ onLogin: entries.available.id, onLogout: entries.unavailable.id });
    expect(expectError(await api().request('/api/v1/me/settings', { method: 'PUT', basic: ALICE, body: { onLogin: 9999, onLogout: null } }), 400, 'INVALID_VALUE')).to.contain('body/onLogin');
    expect(expectError(await api().request('/api/v1/me/settings', { method: 'PUT', basic: ALICE, body: { onLogin: 'lunch', onLogout: null } }), 400, 'INVALID_VALUE')).to.contain('body/onLogin');
  });

  it('applies the on-login state at login and the on-logout state at logout', async function () {
    await api().request('/api/v1/presence/6001', { method: 'PUT', basic: ALICE, body: { state: 'xa' } });
    const cookie = await api().login(...ALICE);
    expect((await stateOf('6001')).state).to.equal('available');
    await api().request('/api/v1/logout', { method: 'POST', cookie, body: {} });
    expect((await stateOf('6001')).state).to.equal('unavailable');
  });

  it('applies the on-logout state when the last event stream is gone past the grace period, not on a reconnect', async function () {
    const cookie = await api().login(...ALICE);
    await api().request('/api/v1/presence/6001', { method: 'PUT', cookie, body: { state: 'away', message: 'Lunch' } });
    // A reload: the stream closes and another opens at once; nothing happens.
    const first = await EventStreamReader.open(server().httpPort, { cookie });
    await first.close();
    const second = await EventStreamReader.open(server().httpPort, { cookie });
    await sleep(GRACE_S * 1000 + 700);
    expect(await stateOf('6001')).to.deep.include({ state: 'away', message: 'Lunch' });
    // The tab closes: no stream comes back.
    await second.close();
    const watcher = await EventStreamReader.open(server().httpPort, { basic: ADMIN });
    try {
      const change = JSON.parse((await watcher.next('presence', (GRACE_S + 5) * 1000)).data);
      expect(change).to.deep.include({ name: '6001', state: 'unavailable', source: 'http:6001 (closed)' });
    } finally {
      await watcher.close();
    }
  });

  it("applies the on-logout state after the page's pagehide beacon when no page comes back", async function () {
    const cookie = await api().login(...ALICE);
    expect((await stateOf('6001')).state).to.equal('available');
    const beacon = await api().request('/api/v1/me/leaving', { method: 'POST', cookie, body: {} });
    expect(beacon.status).to.equal(202);
    await sleep(GRACE_S * 1000 + 700);
    expect((await stateOf('6001')).state).to.equal('unavailable');
  });
});
