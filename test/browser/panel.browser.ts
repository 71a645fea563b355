// The presence panel in a real browser: headless Chromium (puppeteer-core) against the real daemon. A user logs in,
// picks "Lunch" from the administrator's list, a SIP watcher gets the NOTIFY, the directory follows another user's
// change live, picking an Away entry switches Do Not Disturb on as the user's settings say (the busy-lamp row of
// *766001 follows live), and closing the page applies the user's on-logout state. With PANEL_SCREENSHOTS=DIR the screenshots
// of docs/WEB.md are written there.
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchChromium, type LaunchedBrowser } from '../helpers/browser.js';
import { authorization, parseChallenge } from '../helpers/digest.js';
import { ApiClient } from '../helpers/http-client.js';
import { UdpSipClient, type WatcherDialog } from '../helpers/sip-client.js';
import { useServer } from '../helpers/suite.js';
import { parsePidf, type SipMessage } from '../helpers/wire.js';

const ADMIN: [string, string] = ['admin', 'admin-demo-secret'];
const SCREENSHOTS = process.env.PANEL_SCREENSHOTS;

/**
 * A Digium phone watching `user` (its NOTIFYs carry the digium_presence tuple), signed in as the sample pjsip.conf's
 * lobby endpoint: it answers the 401's first (SHA-256) challenge.
 */
async function watch(client: UdpSipClient, user: string): Promise<WatcherDialog> {
  const options = { user, fromUser: 'lobby', userAgent: 'Digium D65 2.9.15' };
  const challenged = await client.subscribe(options);
  expect(challenged.response.status).to.equal(401);
  const row = challenged.response.raw.split('\r\n').find((line) => /^www-authenticate\s*:/i.test(line))!;
  const challenge = parseChallenge(row.slice(row.indexOf(':') + 1).trim());
  const uri = `sip:${user}@127.0.0.1:${client.serverPort}`;
  const header = authorization(challenge, { username: 'lobby', password: 'lobby-demo-secret', method: 'SUBSCRIBE', uri });
  const subscribed = await client.subscribe({ ...options, cseq: 2, set: { Authorization: header } });
  expect(subscribed.response.status).to.equal(200);
  return subscribed.dialog as WatcherDialog;
}

function digiumOf(notify: SipMessage): { type?: string; text: string } | undefined {
  return parsePidf(notify.body).tuples.find((tuple) => tuple.digium)?.digium;
}

async function shoot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

async function clickButton(page: Page, text: string): Promise<void> {
  await page.locator(`::-p-text(${text})`).click();
}

describe('browser: the presence panel in headless Chromium', function () {
  this.timeout(90_000);
  const server = useServer({
    config: 'fixtures/http/extensions.conf',
    amiConfig: 'fixtures/manager.conf',
    args: ['--http', '127.0.0.1:0', '--pjsip', 'fixtures/pjsip.conf', '--http-logout-grace', '1'],
  });
  let chromium: LaunchedBrowser;
  let watcher: UdpSipClient;
  before(async function () {
    chromium = await launchChromium();
    watcher = await UdpSipClient.open(server().udpPort);
  });
  after(async function () {
    await watcher?.close();
    await chromium?.close();
  });
  const url = (): string => `http://127.0.0.1:${server().httpPort}/`;

  async function openPage(width = 1000, height = 900): Promise<Page> {
    // A context of its own: no cookie of an earlier login.
    const page = await (await chromium.browser.createBrowserContext()).newPage();
    await page.setViewport({ width, height });
    await page.goto(url(), { waitUntil: 'load' });
    return page;
  }

  async function login(page: Page, username: string, password: string): Promise<void> {
    await page.locator('#login-form input[name=username]').fill(username);
    await page.locator('#login-form input[name=password]').fill(password);
    await page.locator('#login-form button[type=submit]').click();
  }

  it('lets the administrator add "Lunch" to the state list in the admin view', async function () {
    const page = await openPage();
    await login(page, ...ADMIN);
    await page.waitForSelector('#admin:not([hidden])');
    await page.select('#add-state select[name=type]', 'away');
    await page.locator('#add-state input[name=message]').fill('Lunch');
    await page.locator('#add-state button[type=submit]').click();
    await page.waitForFunction(() => document.querySelector('#state-list')?.textContent?.includes('Lunch'));
    await shoot(page, 'panel-admin');
    await page.close();
  });

  it('logs a user in, picks "Lunch" from the list: the SIP watcher gets the NOTIFY; the directory follows live; closing applies the logout state', async function () {
    const dialog = await watch(watcher, '6001');
    await dialog.nextNotify();

    const page = await openPage(1000, 1400);
    await login(page, '6001', '6001-demo-secret');
    await page.waitForSelector('#mine:not([hidden])');
    expect(await page.$eval('#who', (node) => node.textContent)).to.equal('Alice (6001)');

    // Settings: on logout (or closing the page) → Unavailable. The list's options arrive after the view shows.
    await page.waitForFunction(() => [...document.querySelectorAll('#settings-form select[name=onLogout] option')].some((option) => option.textContent === 'Unavailable'));
    const unavailable = await page.$eval('#settings-form select[name=onLogout]', (select) =>
      [...(select as HTMLSelectElement).options].find((option) => option.textContent === 'Unavailable')?.value);
    await page.select('#settings-form select[name=onLogout]', unavailable as string);
    // When Away: Do Not Disturb on.
    await page.select('#settings-form select[name=dnd-away]', 'on');
    await page.locator('#settings-form button[type=submit]').click();
    await page.waitForFunction(() => document.querySelector('#notice')?.textContent === 'Settings saved.');

    await clickButton(page, 'Lunch');
    const lunch = await dialog.nextNotify();
    expect(digiumOf(lunch)?.type).to.equal('away');
    expect(digiumOf(lunch)?.text).to.equal('Lunch');
    await page.waitForFunction(() => document.querySelector('#choices button[aria-pressed=true]')?.textContent?.includes('Lunch'));
    // The action switched Custom:DND6001: its busy-lamp row (*766001) turns InUse without a reload.
    await page.waitForFunction(() => document.querySelector('#directory-rows tr[data-extension="*766001"]')?.textContent?.includes('InUse'));
    expect((await server().devicestate(['list'])).stdout).to.contain("--- Name: 'Custom:DND6001'  State: 'INUSE'\n");

    // Another user changes through the API: the directory row of 6002 follows without a reload.
    const api = new ApiClient(server().httpPort);
    const put = await api.request('/api/v1/presence/6002', { method: 'PUT', basic: ['6002', '6002-demo-secret'], body: { state: 'dnd', message: 'In a meeting' } });
    expect(put.status).to.equal(200);
    await page.waitForFunction(() => {
      const row = document.querySelector('#directory-rows tr[data-extension="6002"]');
      return row?.textContent?.includes('DND') && row.textContent.includes('In a meeting');
    });
    await shoot(page, 'panel-user');
    await page.setViewport({ width: 390, height: 844 });
    await shoot(page, 'panel-phone');

    // Closing the page: the beacon and the closed event stream; after the grace period the logout state applies.
    await page.close({ runBeforeUnload: true });
    const closed = await dialog.nextNotify();
    expect(digiumOf(closed)?.type).to.equal('unavailable');
    const after = await api.request<{ state: string }>('/api/v1/presence/6001', { basic: ADMIN });
    expect(after.json.state).to.equal('unavailable');
  });
});
