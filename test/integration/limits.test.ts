// D1: what one anonymous client may make the server keep is bounded: header, request and dialog sizes, and
// subscriptions and publications in total, per source address and per presentity. Caps are set small here.
import { expect } from 'chai';
import { publish, rpidBody } from '../helpers/publish.js';
import { listedSubscriptions, makeTempDir, removeDir, startServer } from '../helpers/server.js';
import { UdpSipClient } from '../helpers/sip-client.js';
import type { SipClient } from '../helpers/sip-client.js';
import { useServer } from '../helpers/suite.js';

const OTHER_SOURCE = '127.0.0.2';

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('integration: limits (D1)', function () {
  const clients: SipClient[] = [];
  const open = async (host?: string): Promise<UdpSipClient> => {
    const client = await UdpSipClient.open(server().udpPort, host);
    clients.push(client);
    return client;
  };
  afterEach(async function () {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  const server = useServer({
    args: [
      '--max-header-bytes', '1024', '--max-request-bytes', '6000', '--max-dialog-bytes', '2500',
      '--max-subscriptions', '6', '--max-subscriptions-per-source', '4', '--max-subscriptions-per-presentity', '3',
      '--max-publications-per-source', '2',
    ],
  });

  it('answers a header over --max-header-bytes with 400 naming it, and keeps nothing', async function () {
    const client = await open();
    const { response } = await client.subscribe({ fromUser: 'big', set: { From: `<sip:${'a'.repeat(3000)}@127.0.0.1>;tag=x1` } });
    expect(response.status).to.equal(400);
    expect(response.reason).to.equal('Bad Request (From header over 1024 bytes)');
    expect(await listedSubscriptions(server(), 'a'.repeat(3000))).to.equal(0);
  });

  it('answers a request over --max-request-bytes with 513', async function () {
    const client = await open();
    const padding = Array.from({ length: 10 }, (_, i) => `${i}${'p'.repeat(700)}`);
    const { response } = await client.subscribe({ fromUser: 'padded', set: { 'X-Padding': padding } });
    expect(response.status).to.equal(513);
    expect(response.reason).to.equal('Message Too Large (over 6000 bytes)');
    expect(await listedSubscriptions(server(), 'padded')).to.equal(0);
  });

  it('answers a SUBSCRIBE whose dialog state is over --max-dialog-bytes with 513, and keeps nothing', async function () {
    const client = await open();
    const routes = Array.from({ length: 4 }, (_, i) => `<sip:proxy${i}.${'r'.repeat(800)}.example;lr>`);
    const { response } = await client.subscribe({ fromUser: 'routed', set: { 'Record-Route': routes } });
    expect(response.status).to.equal(513);
    expect(response.reason).to.equal('Message Too Large (subscription state over 2500 bytes)');
    expect(await listedSubscriptions(server(), 'routed')).to.equal(0);
  });

  it('caps subscriptions per presentity and per source with 403, and in total with 503 and Retry-After', async function () {
    const first = await open();
    for (let i = 0; i < 3; i++) expect((await first.subscribe({ fromUser: `cap${i}` })).response.status).to.equal(200);
    const toFull = await first.subscribe({ fromUser: 'cap3' });
    expect(toFull.response.status).to.equal(403);
    expect(toFull.response.reason).to.equal('Forbidden (too many subscriptions to this resource)');

    expect((await first.subscribe({ user: '7000', fromUser: 'cap4' })).response.status).to.equal(200);
    for (const fromUser of ['cap5', 'cap6']) {
      const overSource = await first.subscribe({ user: '6003', fromUser });
      expect(overSource.response.status).to.equal(403);
      expect(overSource.response.reason).to.equal('Forbidden (too many subscriptions from this address)');
    }

    const second = await open(OTHER_SOURCE);
    for (const fromUser of ['cap7', 'cap8']) expect((await second.subscribe({ user: '6003', fromUser })).response.status).to.equal(200);
    const overTotal = await second.subscribe({ user: '2000', fromUser: 'cap9' });
    expect(overTotal.response.status).to.equal(503);
    expect(overTotal.response.header('Retry-After')).to.equal('60');

    // Each limit's episode is logged once, however many requests hit it.
    expect(occurrences(server().stderr(), 'refusing new ones (Forbidden (too many subscriptions from this address)')).to.equal(1);
  });

  it('keeps room for the owner: publications from one address are capped per presentity', async function () {
    const junk = await open();
    for (let i = 0; i < 2; i++) expect((await publish(junk, { user: '2000', body: rpidBody('away', undefined, 'sip:2000@127.0.0.1') })).status).to.equal(200);
    const refused = await publish(junk, { user: '2000', body: rpidBody('away', undefined, 'sip:2000@127.0.0.1') });
    expect(refused.status).to.equal(403);
    expect(refused.reason).to.equal('Forbidden (too many publications from this address for this presentity)');
    const owner = await open(OTHER_SOURCE);
    expect((await publish(owner, { user: '2000', body: rpidBody('busy', undefined, 'sip:2000@127.0.0.1') })).status).to.equal(200);
  });
});

describe('integration: restoring a store larger than the caps (D1)', function () {
  let dataDir: string;
  before(async function () {
    dataDir = await makeTempDir('presenced-itest-caps-');
  });
  after(async function () {
    await removeDir(dataDir);
  });

  it('starts anyway, keeping the most recently refreshed subscriptions up to the cap, with one WARN', async function () {
    const first = await startServer({ dataDir });
    const client = await UdpSipClient.open(first.udpPort);
    try {
      for (let i = 0; i < 5; i++) await client.subscribeDialog({ fromUser: 'restored', expires: 600 + i * 60 });
    } finally {
      await client.close();
    }
    await first.stop();

    const second = await startServer({ dataDir, args: ['--max-subscriptions', '2'] });
    try {
      expect(second.stderr()).to.match(/dropped 3 stored subscription\(s\) over the limits \(Service Unavailable \(subscription limit reached\)\)/);
      const listing = await second.cli(['subscriptions']);
      const expiries = listing.stdout.split('\n').filter((row) => row.includes('sip:restored@')).map((row) => Number(/(\d+)\s*$/.exec(row)?.[1]));
      expect(expiries).to.have.length(2);
      // The two that expire last were kept.
      for (const expiry of expiries) expect(expiry).to.be.greaterThan(600 + 2 * 60);
    } finally {
      await second.stop();
    }
  });
});
