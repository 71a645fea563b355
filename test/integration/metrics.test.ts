// GET /metrics (Prometheus text format) and GET /healthz on the --http listener of a real daemon: every instrument is
// read over HTTP before and after real SIP, CLI and AMI traffic, so each test shows its values moving with it.
import { expect } from 'chai';
import { ApiClient } from '../helpers/http-client.js';
import { publish, rpidBody } from '../helpers/publish.js';
import { RawAmi } from '../helpers/raw-ami.js';
import { startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually, openClient } from '../helpers/sip-client.js';
import type { SipClient, WatcherDialog } from '../helpers/sip-client.js';

const DIALOG = { Event: 'dialog', Accept: 'application/dialog-info+xml' };

/** The value of one series in the text format: `name{label="value",…} number`; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe('integration: /metrics and /healthz', function () {
  let server: PresenceServer;
  let api: ApiClient;
  const clients: SipClient[] = [];

  async function scrape(): Promise<string> {
    const response = await api.request('/metrics');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    return response.text;
  }

  async function client(transport: 'UDP' | 'TCP'): Promise<SipClient> {
    const opened = await openClient(transport, server);
    clients.push(opened);
    return opened;
  }

  async function watch(over: SipClient, user: string, set?: Record<string, string>): Promise<WatcherDialog> {
    const { response, dialog } = await over.subscribe({ user, set });
    expect(response.status, response.raw).to.equal(200);
    await dialog!.nextNotify();
    return dialog!;
  }

  before(async function () {
    server = await startServer({ amiConfig: 'fixtures/manager.conf', args: ['--http', '127.0.0.1:0', '--t1', '50'] });
    api = new ApiClient(server.httpPort);
  });

  after(async function () {
    await Promise.all(clients.map((opened) => opened.close()));
    await server?.stop();
  });

  it('answers /healthz with 200 and the checks it made', async function () {
    const response = await api.request('/healthz');
    expect(response.status).to.equal(200);
    expect(response.json).to.deep.equal({ status: 'ok', checks: { store: 'ok', overload: 'ok' } });
  });

  it("exposes Node's process metrics, event-loop lag among them", async function () {
    const text = await scrape();
    expect(text).to.match(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    expect(text).to.match(/^# TYPE process_resident_memory_bytes gauge$/m);
    expect(sample(text, 'presenced_overloaded')).to.equal(0);
  });

  it('counts subscriptions by event package and transport, connections, and SUBSCRIBE answers by status', async function () {
    const before = await scrape();
    const udp = await client('UDP');
    const tcp = await client('TCP');
    await watch(udp, '6002');
    const blf = await watch(tcp, '2000', DIALOG);
    const refused = await udp.subscribe({ user: '5555' });
    expect(refused.response.status).to.equal(404);

    const text = await scrape();
    expect(sample(text, 'presenced_subscriptions', { event: 'presence', transport: 'UDP' })).to.equal(1);
    expect(sample(text, 'presenced_subscriptions', { event: 'dialog', transport: 'TCP' })).to.equal(1);
    expect(sample(text, 'presenced_connections', { transport: 'TCP' })).to.equal(1);
    const answers = (scraped: string, status: string): number => sample(scraped, 'presenced_sip_responses_total', { method: 'SUBSCRIBE', status });
    expect(answers(text, '200') - answers(before, '200')).to.equal(2);
    expect(answers(text, '404') - answers(before, '404')).to.equal(1);

    await blf.refresh({ expires: 0, set: DIALOG });
    await eventually(async () => sample(await scrape(), 'presenced_subscriptions', { event: 'dialog', transport: 'TCP' }) === 0, 5000, 'the dialog gauge going down');
  });

  it('counts state changes by source, NOTIFYs sent, the fan-out and store writes', async function () {
    const udp = await client('UDP');
    const watchers = [await watch(udp, '6002'), await watch(udp, '6003')];
    const before = await scrape();
    const change = await server.cli(['change', 'CustomPresence:6002', 'away']);
    expect(change.code, change.stderr).to.equal(0);
    await Promise.all(watchers.map((watcher) => watcher.nextNotify()));
    const published = await publish(udp, { body: rpidBody('busy') });
    expect(published.status).to.equal(200);
    await Promise.all(watchers.map((watcher) => watcher.nextNotify()));

    const text = await scrape();
    const delta = (name: string, labels?: Record<string, string>): number => sample(text, name, labels) - sample(before, name, labels);
    expect(delta('presenced_state_changes_total', { source: 'cli' })).to.equal(1);
    expect(delta('presenced_state_changes_total', { source: 'sip' })).to.equal(1);
    expect(delta('presenced_sip_responses_total', { method: 'PUBLISH', status: '200' })).to.equal(1);
    expect(sample(text, 'presenced_publications')).to.equal(1);
    expect(delta('presenced_notifies_sent_total')).to.be.at.least(4);
    expect(delta('presenced_fanout_duration_seconds_count')).to.be.at.least(2);
    expect(delta('presenced_store_write_duration_seconds_count', { operation: 'savePresence' })).to.equal(1);
    expect(delta('presenced_store_write_duration_seconds_count', { operation: 'savePublication' })).to.equal(1);
  });

  it('counts NOTIFYs failed by status, retransmitted and timed out', async function () {
    const failing = await client('UDP');
    const silent = await client('UDP');
    await watch(failing, '7000');
    await watch(silent, '7000');
    failing.notifyAnswer = () => ({ status: 500, reason: 'Server Internal Error' });
    silent.notifyAnswer = () => undefined;
    const before = await scrape();
    const change = await server.cli(['change', 'CustomPresence:7000', 'dnd']);
    expect(change.code, change.stderr).to.equal(0);
    // Timer F is 64·T1 = 3.2 s here.
    await eventually(async () => sample(await scrape(), 'presenced_notifies_failed_total', { status: 'timeout' }) > sample(before, 'presenced_notifies_failed_total', { status: 'timeout' }), 10000, 'a NOTIFY timing out');
    const text = await scrape();
    expect(sample(text, 'presenced_notifies_failed_total', { status: '500' })).to.be.above(sample(before, 'presenced_notifies_failed_total', { status: '500' }));
    expect(sample(text, 'presenced_notify_retransmissions_total')).to.be.above(sample(before, 'presenced_notify_retransmissions_total'));
  });

  it('counts AMI sessions while they are open', async function () {
    const ami = await RawAmi.open(server.amiPort);
    expect(sample(await scrape(), 'presenced_ami_sessions')).to.equal(1);
    ami.socket.destroy();
    await eventually(async () => sample(await scrape(), 'presenced_ami_sessions') === 0, 5000, 'the AMI session closing');
  });

  it('keeps peer-chosen text out of label values', async function () {
    const udp = await client('UDP');
    const junk = await udp.request(udp.buildRequest('FOOXBAR', { user: '6002' }));
    expect(junk.status).to.equal(405);
    const text = await scrape();
    expect(sample(text, 'presenced_sip_responses_total', { method: 'other', status: '405' })).to.be.at.least(1);
    expect(text).not.to.include('FOOXBAR');
  });
});
