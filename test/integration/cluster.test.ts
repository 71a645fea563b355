// Two presenced daemons sharing a real redis-server: a change made on either node reaches the watchers of the
// other through the change bus, and a Redis restart is survived (docs/CLUSTER.md).
import { expect } from 'chai';
import { useTwoNodes } from '../helpers/cluster.js';
import { eventually, type UdpSipClient, type WatcherDialog } from '../helpers/sip-client.js';
import { digiumState, publish, rpidBody } from '../helpers/publish.js';

describe('integration: two nodes on one Redis', function () {
  this.timeout(60000);
  const nodes = useTwoNodes('fixtures/integration/presence.conf');

  async function watch(client: UdpSipClient, user: string): Promise<WatcherDialog> {
    const { response, dialog } = await client.subscribe({ user, userAgent: 'Digium D65' });
    expect(response.status).to.equal(200);
    await dialog!.nextNotify();
    return dialog!;
  }

  it('sends a CLI change made on one node to the watchers of both', async function () {
    const { nodeA, nodeB, clientA, clientB } = nodes();
    const onA = await watch(clientA, '6002');
    const onB = await watch(clientB, '6002');
    const change = await nodeA.cli(['change', 'CustomPresence:6002', 'away,,Back in ten']);
    expect(change.code, change.stderr).to.equal(0);
    expect(digiumState(await onB.nextNotify())).to.deep.equal({ type: 'away', subtype: '', text: 'Back in ten' });
    expect(digiumState(await onA.nextNotify())).to.deep.equal({ type: 'away', subtype: '', text: 'Back in ten' });
    expect((await nodeB.cli(['list'])).stdout).to.contain('Back in ten');
  });

  it('sends a PUBLISH received by one node to the watchers of the other, and its removal', async function () {
    const { clientA, clientB } = nodes();
    const onA = await watch(clientA, '6003');
    const published = await publish(clientB, { user: '6002', expires: 600, body: rpidBody('on-the-phone', 'Call') });
    expect(published.status).to.equal(200);
    expect(digiumState(await onA.nextNotify())?.text).to.equal('Call');
    const removed = await publish(clientB, { user: '6002', etag: published.header('SIP-ETag')!, expires: 0 });
    expect(removed.status).to.equal(200);
    expect(digiumState(await onA.nextNotify())?.text).to.equal('Back in ten');
  });

  it('refuses a CLI change clearly while Redis is down, keeps serving, and catches up once it is back', async function () {
    const { redis, nodeA, clientA, clientB } = nodes();
    const onB = await watch(clientB, '6002');
    await redis.stop();
    const refused = await nodeA.cli(['change', 'CustomPresence:6002', 'dnd,,while down']);
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain('Service Unavailable (the store is unreachable');
    // The node still answers SIP from memory; a PUBLISH, which must be stored first, gets 503 with Retry-After.
    const fetch = await clientA.subscribe({ user: '6002', expires: 0 });
    expect(fetch.response.status).to.equal(200);
    const published = await publish(clientA, { user: '6002', expires: 600, body: rpidBody('away', 'lost?') });
    expect(published.status).to.equal(503);
    expect(published.reason).to.equal('Service Unavailable (the store cannot write)');
    expect(published.header('Retry-After')).to.match(/^\d+$/);
    await redis.restart();
    await eventually(async () => (await nodeA.cli(['change', 'CustomPresence:6002', 'dnd,,after the restart'])).code === 0, 15000, 'the CLI works again');
    let state = digiumState(await onB.nextNotify(15000));
    // A NOTIFY from B's resynchronisation may come first; the change follows.
    while (state?.text !== 'after the restart') state = digiumState(await onB.nextNotify(15000));
    expect(state).to.deep.equal({ type: 'dnd', subtype: '', text: 'after the restart' });
    expect(nodeA.stderr()).to.not.match(/uncaught|unhandled/i);
  });
});
