// Webhooks in a cluster: each change is POSTed once, by the node it was made on, not again by every node that hears
// of it on the change bus. Each node of two on a real redis-server posts to its own path of one local receiver.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { useTwoNodes } from '../helpers/cluster.js';
import { eventually } from '../helpers/sip-client.js';

interface Posted { node: string; body: { event: string; device?: string; name?: string; state: string } }

describe('integration: webhooks of two nodes on one Redis', function () {
  this.timeout(60000);
  const posted: Posted[] = [];
  const receiver = http.createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
      posted.push({ node: (request.url ?? '').slice(1), body: JSON.parse(text) as Posted['body'] });
      response.writeHead(204).end();
    });
  });
  let port = 0;
  before(async function () {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const nodes = useTwoNodes('fixtures/integration/blf.conf', (node) => ['--webhook', `http://127.0.0.1:${port}/${node}`]);

  /** What `node` has posted, once its posts include one matching `last` (each node posts in order). */
  async function postsOf(node: string, last: (body: Posted['body']) => boolean): Promise<Array<Posted['body']>> {
    await eventually(() => posted.some((post) => post.node === node && last(post.body)), 15000, `${node}'s webhook`);
    // Each post also has an id and a time; what was posted is the rest.
    const own = posted.filter((post) => post.node === node).map(({ body: { event, device, name, state } }) => ({ event, ...(device ? { device } : { name }), state }));
    return own.slice(0, own.findIndex(last) + 1);
  }

  it('posts a device change only from the node it was made on', async function () {
    const { nodeA, nodeB } = nodes();
    expect((await nodeA.devicestate(['change', 'Custom:2000', 'INUSE'])).code).to.equal(0);
    expect((await nodeB.devicestate(['change', 'Custom:2000', 'RINGING'])).code).to.equal(0);
    expect((await nodeA.devicestate(['change', 'Custom:2000', 'NOT_INUSE'])).code).to.equal(0);
    // B heard A's first change before it made its own: had it posted it, that post would come before its own.
    expect(await postsOf('node-b', (body) => body.state === 'RINGING')).to.deep.equal([{ event: 'device', device: 'Custom:2000', state: 'RINGING' }]);
    expect(await postsOf('node-a', (body) => body.state === 'NOT_INUSE')).to.deep.equal([
      { event: 'device', device: 'Custom:2000', state: 'INUSE' },
      { event: 'device', device: 'Custom:2000', state: 'NOT_INUSE' },
    ]);
  });

  it('posts a presence change only from the node it was made on', async function () {
    const { nodeA, nodeB } = nodes();
    expect((await nodeA.cli(['change', 'CustomPresence:4000', 'away,,lunch'])).code).to.equal(0);
    expect((await nodeB.cli(['change', 'CustomPresence:4000', 'available'])).code).to.equal(0);
    expect((await nodeA.cli(['change', 'CustomPresence:4000', 'dnd'])).code).to.equal(0);
    const presence = (state: string) => (body: Posted['body']) => body.event === 'presence' && body.state === state;
    const presencePosts = async (node: string, state: string) => (await postsOf(node, presence(state))).filter((body) => body.event === 'presence');
    expect(await presencePosts('node-b', 'available')).to.deep.equal([{ event: 'presence', name: '4000', state: 'available' }]);
    expect(await presencePosts('node-a', 'dnd')).to.deep.equal([
      { event: 'presence', name: '4000', state: 'away' },
      { event: 'presence', name: '4000', state: 'dnd' },
    ]);
  });
});
