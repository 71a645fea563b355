// The HTTP API over real HTTP: presence read and write, logins (Basic and the session cookie), and every kind of
// bad request answered from the error registry.
import { expect } from 'chai';
import { ApiClient, expectError } from '../helpers/http-client.js';
import { UdpSipClient } from '../helpers/sip-client.js';
import { useServer, useClient } from '../helpers/suite.js';
import { parsePidf } from '../helpers/wire.js';

const ADMIN: [string, string] = ['supervisor', 'super-secret'];


describe('integration: HTTP API without --pjsip', function () {
  const server = useServer({ amiConfig: 'fixtures/http/manager.conf', args: ['--http', '127.0.0.1:0'] });
  const api = (): ApiClient => new ApiClient(server().httpPort);
  const watcher = useClient(() => UdpSipClient.open(server().udpPort));

  it('lets anonymous loopback clients read the states of the default context', async function () {
    const response = await api().request<Array<{ name: string; state: string }>>('/api/v1/presence');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    expect(response.json.map((row) => row.name)).to.deep.equal(['2000', '6002', '7000']);
    const me = await api().request('/api/v1/me');
    expect(me.json).to.deep.equal({ role: 'anonymous', canChange: false });
  });

  it('refuses every change from anonymous clients (403 READ_ONLY) and stores nothing', async function () {
    expectError(await api().request('/api/v1/presence/6002', { method: 'PUT', body: { state: 'away' } }), 403, 'READ_ONLY');
    const after = await api().request<{ state: string }>('/api/v1/presence/6002');
    expect(after.json.state).to.equal('not_set');
  });

  it('lets an administrator (AMI user with write=system) change any state; every SIP watcher gets the NOTIFY', async function () {
    const subscribed = await watcher().subscribe({ user: '6002', userAgent: 'Digium D65 2.9.15' });
    expect(subscribed.response.status).to.equal(200);
    const dialog = subscribed.dialog!;
    await dialog.nextNotify();
    const put = await api().request('/api/v1/presence/6002', { method: 'PUT', basic: ADMIN, body: { state: 'Away', subtype: 'lunch', message: 'Lunch, back at 2' } });
    expect(put.status, put.text).to.equal(200);
    expect(put.json).to.deep.equal({ name: '6002', state: 'away', subtype: 'lunch', message: 'Lunch, back at 2' });
    const notify = await dialog.nextNotify();
    const digium = parsePidf(notify.body).tuples.find((tuple) => tuple.digium)?.digium;
    expect(digium?.type).to.equal('away');
    expect(digium?.text).to.equal('Lunch, back at 2');
    // Durable and visible to the CLI.
    const listed = await server().cli(['list']);
    expect(listed.stdout).to.contain('Lunch, back at 2');
  });

  it('keeps a session with the cookie from POST /api/v1/login (HttpOnly, SameSite=Strict, expiring) until logout', async function () {
    const login = await api().request('/api/v1/login', { method: 'POST', body: { username: 'supervisor', password: 'super-secret' } });
    expect(login.status).to.equal(200);
    expect(login.json).to.deep.equal({ role: 'admin', name: 'supervisor', canChange: true });
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).to.match(/^presenced_session=[A-Za-z0-9_-]{40,};/);
    expect(setCookie).to.match(/; HttpOnly/).and.match(/; SameSite=Strict/).and.match(/; Max-Age=\d+/);
    const cookie = setCookie.split(';')[0];
    const put = await api().request('/api/v1/presence/2000', { method: 'PUT', cookie, body: { state: 'dnd' } });
    expect(put.status).to.equal(200);
    const logout = await api().request('/api/v1/logout', { method: 'POST', cookie, body: {} });
    expect(logout.status).to.equal(204);
    expect(logout.headers.get('set-cookie')).to.match(/Max-Age=0/);
    expectError(await api().request('/api/v1/presence/2000', { method: 'PUT', cookie, body: { state: 'away' } }), 403, 'READ_ONLY');
  });

  it('refuses state changes with the session cookie from another site (CSRF)', async function () {
    const cookie = await api().login(...ADMIN);
    const headers = { origin: 'http://evil.example' };
    expectError(await api().request('/api/v1/presence/2000', { method: 'PUT', cookie, headers, body: { state: 'away' } }), 403, 'CROSS_SITE');
    const fetchSite = { 'sec-fetch-site': 'cross-site' };
    expectError(await api().request('/api/v1/presence/2000', { method: 'PUT', cookie, headers: fetchSite, body: { state: 'away' } }), 403, 'CROSS_SITE');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expectError(await api().request('/api/v1/presence/2000', { method: 'PUT', cookie, headers: form, rawBody: 'state=away' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers wrong credentials with 401 after a delay, logs them, and refuses AMI users without write=system', async function () {
    const wrong = await api().request('/api/v1/presence', { basic: ['supervisor', 'guess'] });
    expectError(wrong, 401, 'AUTHENTICATION_FAILED');
    expect(wrong.headers.get('www-authenticate')).to.match(/^Basic realm="presenced"/);
    expectError(await api().request('/api/v1/login', { method: 'POST', body: { username: 'panel', password: 'panelpass' } }), 401, 'AUTHENTICATION_FAILED');
    expectError(await api().request('/api/v1/login', { method: 'POST', body: { username: 'remote', password: 'remotepass' } }), 401, 'AUTHENTICATION_FAILED');
    expect(server().stderr()).to.match(/WARN http: 127\.0\.0\.1 failed to authenticate as 'supervisor' \(wrong secret\)/);
    expect(server().stderr()).to.match(/failed to authenticate as 'panel' \(the AMI user has no system write permission\)/);
    expect(server().stderr()).to.match(/failed to authenticate as 'remote' \(address not permitted/);
  });

  it('validates bodies against the schema: 400 naming the field, and nothing changes', async function () {
    const put = (body: unknown): Promise<{ status: number; json: unknown }> => api().request('/api/v1/presence/7000', { method: 'PUT', basic: ADMIN, body });
    expect(expectError(await put({ message: 'no state' }), 400, 'INVALID_VALUE')).to.contain('body/state');
    expect(expectError(await put({ state: 'away', mood: 'sunny' }), 400, 'INVALID_VALUE')).to.contain('body/mood');
    expect(expectError(await put({ state: 7 }), 400, 'INVALID_VALUE')).to.contain('body/state');
    expect(expectError(await put({ state: 'sleepy' }), 400, 'INVALID_VALUE')).to.contain("Unknown presence state 'sleepy'");
    expect(expectError(await put({ state: 'away', message: 'x'.repeat(257) }), 400, 'INVALID_VALUE')).to.contain('body/message');
    expect(expectError(await put(['away']), 400, 'INVALID_VALUE')).to.contain('body');
    const broken = await api().request('/api/v1/presence/7000', { method: 'PUT', basic: ADMIN, rawBody: '{"state": "away"', headers: { 'content-type': 'application/json' } });
    expect(expectError(broken, 400, 'INVALID_VALUE')).to.contain('JSON');
    const state = await api().request<{ state: string }>('/api/v1/presence/7000');
    expect(state.json.state).to.equal('not_set');
  });

  it('refuses oversized bodies (413), unknown routes (404 JSON), bad names and unknown presences', async function () {
    const huge = { state: 'away', message: 'x'.repeat(40_000) };
    expectError(await api().request('/api/v1/presence/7000', { method: 'PUT', basic: ADMIN, body: huge }), 413, 'REQUEST_TOO_LARGE');
    expectError(await api().request('/api/v1/nothing-here'), 404, 'NO_ROUTE');
    expectError(await api().request('/api/v1/presence', { method: 'DELETE' }), 404, 'NO_ROUTE');
    expectError(await api().request('/api/v1/presence/8000'), 404, 'NO_SUCH_PRESENCE');
    expect(expectError(await api().request('/api/v1/presence/bad%20name'), 400, 'INVALID_VALUE')).to.contain('params/name');
  });

  it('serves the OpenAPI 3 document of every route at /openapi.json', async function () {
    const response = await api().request<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/openapi.json');
    expect(response.status).to.equal(200);
    expect(response.json.openapi).to.match(/^3\./);
    expect(Object.keys(response.json.paths)).to.include.members(['/api/v1/presence', '/api/v1/presence/{name}', '/api/v1/login', '/api/v1/logout', '/api/v1/me']);
    expect(Object.keys(response.json.paths['/api/v1/presence/{name}'])).to.include.members(['get', 'put']);
  });
});
