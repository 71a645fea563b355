// Backpressure on WebSocket (docs/WEBSOCKET.md, limits): a watcher that stops reading its socket while the server
// keeps sending fills the kernel's buffers and then ws's queue; once more than 1 MiB waits for it, the server drops
// that connection (and its subscriptions), and every other watcher keeps getting its NOTIFYs.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { listedSubscriptions, makeTempDir, removeDir, startServer, type PresenceServer } from '../helpers/server.js';
import { eventually } from '../helpers/sip-client.js';
import { WsSipClient } from '../helpers/ws-client.js';
import { parsePidf } from '../helpers/wire.js';

/** Members of the list the stalled watcher subscribes to (7000-7999 are hints of fixtures/extensions.conf). */
const MEMBERS = 1000;
/** Each list SUBSCRIBE brings a full-state NOTIFY of about 500 KB: far more than the socket buffers take. */
const MOST_SUBSCRIBES = 200;

describe('integration: a WebSocket watcher that stops reading', function () {
  this.timeout(60000);
  let server: PresenceServer;
  let dir: string;
  const clients: WsSipClient[] = [];

  before(async function () {
    dir = await makeTempDir();
    const pjsip = path.join(dir, 'pjsip.conf');
    const members = Array.from({ length: MEMBERS }, (_, i) => String(7000 + i));
    await writeFile(pjsip, `[everyone]\ntype=resource_list\nevent=presence\nlist_item=${members.join(',')}\n`);
    server = await startServer({ config: 'fixtures/extensions.conf', args: ['--ws', '127.0.0.1:0', '--pjsip', pjsip] });
  });

  after(async function () {
    for (const client of clients) await client.close();
    await server?.stop();
    await removeDir(dir);
  });

  it('is dropped once more than 1 MiB is queued to it; the other watchers keep their NOTIFYs', async function () {
    const reader = await WsSipClient.connect(server.wsPort);
    clients.push(reader);
    const readerDialog = await reader.subscribeDialog({ user: '6002', fromUser: 'reader' });
    await readerDialog.nextNotify();

    const stalled = await WsSipClient.connect(server.wsPort);
    clients.push(stalled);
    await (await stalled.subscribeDialog({ user: '6002', fromUser: 'stalled' })).nextNotify();
    // From here on it reads nothing: its socket is paused, the server's NOTIFYs pile up.
    stalled.socket.pause();
    const subscribe = (n: number) => stalled.buildSubscribe({
      user: 'everyone', fromUser: 'stalled', callId: `stalled-${n}`,
      set: { Supported: 'eventlist', Accept: 'multipart/related, application/rlmi+xml, application/pidf+xml' },
    });
    const dropped = () => server.stderr().includes('peer is not reading');
    for (let n = 0; n < MOST_SUBSCRIBES && !dropped(); n++) {
      await stalled.send(subscribe(n)).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await eventually(dropped, 10000, 'the server to drop the connection that does not read');
    expect(server.stderr()).to.match(/dropping connection \d+: peer is not reading \(\d+ bytes queued\)/);
    await eventually(async () => (await listedSubscriptions(server, 'stalled')) === 0, 10000, "the dropped connection's subscriptions to end");

    const change = await server.cli(['change', 'CustomPresence:6002', 'away,,after the drop']);
    expect(change.code, change.stderr).to.equal(0);
    expect(parsePidf((await readerDialog.nextNotify()).body).notes).to.include('after the drop');
    expect(await listedSubscriptions(server, 'reader')).to.equal(1);
  });
});
