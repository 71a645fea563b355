// Browser-phone libraries as real peers: SIP.js and JsSIP in their own Node processes (test/interop/peers), and
// SIP.js in a page that headless Chromium loads.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ManagedProcess } from './child.js';
import { HOST } from './ports.js';

const LIFETIME_MS = 60000;
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface PeerEvent {
  event: string;
  state?: string;
  body?: string;
}

/** A watcher script (sipjs-watcher.js, jssip-watcher.js) printing one JSON line per event. */
export class NodeWatcher {
  private constructor(private readonly child: ManagedProcess) {}

  static start(script: 'sipjs-watcher' | 'jssip-watcher', server: string, target: string): NodeWatcher {
    const file = path.resolve('dist/test/interop/peers', `${script}.js`);
    return new NodeWatcher(ManagedProcess.start(process.execPath, [file, server, target], { timeoutMs: LIFETIME_MS }));
  }

  events(): PeerEvent[] {
    return this.child
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as PeerEvent);
  }

  /** The `n`-th NOTIFY (1-based) the library handed to the application. */
  nthNotify(n: number, timeoutMs: number): Promise<PeerEvent> {
    return this.child.until(() => this.events().filter((event) => event.event === 'notify')[n - 1], timeoutMs, `NOTIFY #${n}`);
  }

  transcript(): string {
    return this.child.transcript();
  }

  stop(): Promise<unknown> {
    return this.child.stop('SIGTERM');
  }
}

/** Serves the watcher page and SIP.js's ES modules (node_modules/sip.js/lib) to the browser. */
export async function servePage(port: number): Promise<http.Server> {
  const page = path.resolve('test/interop/peers/browser-watcher.html');
  const library = path.resolve('node_modules/sip.js/lib');
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    let file: string | undefined;
    if (url.pathname === '/') file = page;
    else if (url.pathname.startsWith('/sip.js/')) {
      const resolved = path.resolve(library, `.${url.pathname.slice('/sip.js'.length)}`);
      if (resolved.startsWith(`${library}${path.sep}`) && resolved.endsWith('.js')) file = resolved;
    }
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' });
    createReadStream(file).on('error', () => response.destroy()).pipe(response);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, HOST, resolve));
  return server;
}

/** Headless Chromium with a fresh profile and nothing that reaches beyond loopback. */
export class HeadlessBrowser {
  private constructor(readonly browser: Browser, private readonly profile: string) {}

  static async launch(): Promise<HeadlessBrowser> {
    const profile = await mkdtemp(path.join(tmpdir(), 'presenced-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
      timeout: 30000,
    });
    return new HeadlessBrowser(browser, profile);
  }

  newPage(): Promise<Page> {
    return this.browser.newPage();
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await rm(this.profile, { recursive: true, force: true });
  }
}
