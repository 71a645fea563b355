// Browser-phone libraries we did not write, over SIP over WebSocket: SIP.js (UserAgent + Subscriber) and JsSIP
// (ua.subscribe) in Node, and SIP.js loaded by a page in headless Chromium. Each subscribes to the presence-only hint
// 2000, gets the initial state, and shows a change made with presencestate.
import type http from 'node:http';
import { expect } from 'chai';
import { startServer, type PresenceServer } from '../../helpers/server.js';
import { changeState } from '../helpers/interop-server.js';
import { HOST, SIP_PORTS, WEB_PORTS } from '../helpers/ports.js';
import { HeadlessBrowser, NodeWatcher, servePage } from '../helpers/web-peers.js';

const NOTIFY_TIMEOUT_MS = 8000;
const WS_URL = `ws://${HOST}:${WEB_PORTS.ws}/ws`;
const TARGET = `sip:2000@${HOST}`;

function startWebServer(): Promise<PresenceServer> {
  const address = `${HOST}:${SIP_PORTS.server}`;
  return startServer({ config: 'fixtures/integration/presence.conf', udp: address, tcp: address, args: ['--ws', `${HOST}:${WEB_PORTS.ws}`] });
}

function noteOf(body: string | undefined): string | undefined {
  return /<note>([^<]*)<\/note>/.exec(body ?? '')?.[1];
}

for (const library of ['sipjs-watcher', 'jssip-watcher'] as const) {
  describe(`interop: ${library === 'sipjs-watcher' ? 'SIP.js UserAgent + Subscriber' : 'JsSIP ua.subscribe'} in Node over WebSocket`, function () {
    this.timeout(30000);
    let server: PresenceServer;
    let watcher: NodeWatcher;

    before(async function () {
      server = await startWebServer();
      watcher = NodeWatcher.start(library, WS_URL, TARGET);
    });

    after(async function () {
      await watcher?.stop();
      await server?.stop();
    });

    it('subscribes and takes in the initial state', async function () {
      const first = await watcher.nthNotify(1, NOTIFY_TIMEOUT_MS);
      expect(first.state, watcher.transcript()).to.match(/^active;expires=\d+/);
      expect(first.body).to.include('<basic>closed</basic>');
    });

    it('takes in a state change', async function () {
      await changeState(server, 'away');
      const next = await watcher.nthNotify(2, NOTIFY_TIMEOUT_MS);
      expect(next.body).to.include('<basic>open</basic>');
      expect(noteOf(next.body)).to.equal('Interop away');
    });
  });
}

describe('interop: SIP.js in headless Chromium over WebSocket', function () {
  this.timeout(60000);
  let server: PresenceServer;
  let page: http.Server;
  let browser: HeadlessBrowser;

  before(async function () {
    server = await startWebServer();
    page = await servePage(WEB_PORTS.page);
    browser = await HeadlessBrowser.launch();
  });

  after(async function () {
    await browser?.close();
    await new Promise((resolve) => (page ? page.close(resolve) : resolve(undefined)));
    await server?.stop();
  });

  it('shows the watched extension and its state change on the page', async function () {
    const tab = await browser.newPage();
    const query = new URLSearchParams({ ws: WS_URL, target: TARGET });
    await tab.goto(`http://${HOST}:${WEB_PORTS.page}/?${query}`);
    const text = (id: string): Promise<string> => tab.$eval(`#${id}`, (element) => element.textContent ?? '');
    await tab.waitForFunction(() => document.getElementById('count')?.textContent === '1' || document.getElementById('error')?.textContent !== '', { timeout: NOTIFY_TIMEOUT_MS });
    expect(await text('error')).to.equal('');
    expect(await text('basic')).to.equal('closed');
    await changeState(server, 'dnd');
    await tab.waitForFunction(() => document.getElementById('count')?.textContent === '2', { timeout: NOTIFY_TIMEOUT_MS });
    expect(await text('basic')).to.equal('open');
    expect(await text('note')).to.equal('Interop dnd');
  });
});
