// presencestate against a running daemon: changing states, fan-out to watchers, and the list/hints/subscriptions
// reports an Asterisk admin knows from `presencestate list` and `core show hints`.
import { expect } from 'chai';
import { makeTempDir, removeDir, runCli, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { openClient } from '../helpers/sip-client.js';
import type { SipClient, SubscribeOptions, WatcherDialog } from '../helpers/sip-client.js';
import { parsePidf } from '../helpers/wire.js';

/** The `--- Name:` block of one provider in `presencestate list` output. */
function listBlock(listing: string, provider: string): string | undefined {
  return listing.split(/(?=--- Name:)/).find((block) => block.includes(`'CustomPresence:${provider}'`));
}

function lineWith(output: string, needle: string): string {
  const line = output.split('\n').find((candidate) => candidate.includes(needle));
  if (line === undefined) throw new Error(`no line containing ${needle} in:\n${output}`);
  return line;
}

describe('integration: presencestate CLI', function () {
  let server: PresenceServer;
  let udp: SipClient;
  let tcp: SipClient;

  async function watch(client: SipClient, options: SubscribeOptions): Promise<WatcherDialog> {
    const { response, dialog } = await client.subscribe(options);
    expect(response.status).to.equal(200);
    if (!dialog) throw new Error('the 200 has no To tag');
    await dialog.nextNotify();
    return dialog;
  }

  before(async function () {
    server = await startServer();
    udp = await openClient('UDP', server);
    tcp = await openClient('TCP', server);
  });

  after(async function () {
    await udp?.close();
    await tcp?.close();
    await server?.stop();
  });

  it('prints the state it sets, as typed', async function () {
    const away = await server.cli(['change', 'CustomPresence:7000', 'away,at home,Sick with the flu']);
    expect(away.code, away.stderr).to.equal(0);
    expect(away.stdout).to.include('Changing 7000 to away');
    const unavailable = await server.cli(['change', 'CustomPresence:7000', 'UNAVAILABLE']);
    expect(unavailable.code, unavailable.stderr).to.equal(0);
    expect(unavailable.stdout).to.include('Changing 7000 to UNAVAILABLE');
  });

  it('notifies every watcher of every hint using the provider exactly once', async function () {
    const watchers = [
      await watch(udp, { user: '6002', userAgent: 'Digium D65' }),
      await watch(tcp, { user: '6002', userAgent: 'Digium D65' }),
      await watch(udp, { user: '6003', userAgent: 'Digium D65' }),
    ];
    const bystander = await watch(udp, { user: '7000', userAgent: 'Digium D65' });
    const change = await server.cli(['change', 'CustomPresence:6002', 'xa,lunch,Back at two']);
    expect(change.code, change.stderr).to.equal(0);
    for (const dialog of watchers) {
      const document = parsePidf((await dialog.nextNotify()).body);
      expect(document.tuples.find((tuple) => tuple.id === 'digium-presence')?.digium).to.deep.equal({
        type: 'xa',
        subtype: 'lunch',
        text: 'Back at two',
      });
    }
    await Promise.all([...watchers, bystander].map((dialog) => dialog.expectNoNotify(700)));
  });

  it('lists stored states like `presencestate list`', async function () {
    const change = await server.cli(['change', 'CustomPresence:9000', 'dnd,meeting,Quarterly review']);
    expect(change.code, change.stderr).to.equal(0);
    const listing = await server.cli(['list']);
    expect(listing.code, listing.stderr).to.equal(0);
    const block = listBlock(listing.stdout, '9000');
    expect(block, listing.stdout).to.be.a('string');
    expect(block).to.match(/State:\s*'dnd'/);
    expect(block).to.match(/Subtype:\s*'meeting'/);
    expect(block).to.match(/Message:\s*'Quarterly review'/);
  });

  it('shows hints like `core show hints`', async function () {
    await watch(udp, { user: '2000' });
    await watch(tcp, { user: '2000' });
    const change = await server.cli(['change', 'CustomPresence:2000', 'chat']);
    expect(change.code, change.stderr).to.equal(0);
    const hints = await server.cli(['hints']);
    expect(hints.code, hints.stderr).to.equal(0);
    const line = lineWith(hints.stdout, '2000@default');
    // Asterisk cuts the hint text to 20 characters in this report.
    expect(line).to.include(',CustomPresence:2000'.slice(0, 20));
    expect(line).to.include('State:Idle');
    expect(line).to.match(/Presence:chat\b/);
    expect(line).to.match(/Watchers\s+2\b/);
    expect(lineWith(hints.stdout, '6002@default')).to.include('PJSIP/6002,CustomPresence:6002'.slice(0, 20));
    expect(hints.stdout).to.match(/- 6 hints registered/);
  });

  it('lists subscriptions with resource, watcher, user agent, transport and time left', async function () {
    await watch(udp, { user: '6002', fromUser: 'cli-udp-watcher', userAgent: 'UdpPhone/1.0', expires: 1234 });
    await watch(tcp, { user: '6002', fromUser: 'cli-tcp-watcher', userAgent: 'TcpPhone/2.0', expires: 1234 });
    const listing = await server.cli(['subscriptions']);
    expect(listing.code, listing.stderr).to.equal(0);
    for (const [agent, watcher, transport] of [
      ['UdpPhone/1.0', 'sip:cli-udp-watcher@127.0.0.1', 'UDP'],
      ['TcpPhone/2.0', 'sip:cli-tcp-watcher@127.0.0.1', 'TCP'],
    ]) {
      const line = lineWith(listing.stdout, agent);
      expect(line).to.include('6002@default');
      expect(line).to.include(watcher);
      expect(line).to.match(new RegExp(`\\b${transport}\\b`));
      const secondsLeft = (line.match(/\b\d+\b/g) ?? []).map(Number).filter((n) => n > 1200 && n <= 1234);
      expect(secondsLeft, line).not.to.be.empty;
    }
    expect(listing.stdout).to.match(/\b\d+ active subscriptions/);
  });

  it('shows counts and memory with `stats`, the subscription count following SUBSCRIBEs', async function () {
    const count = async (): Promise<number> => {
      const stats = await server.cli(['stats']);
      expect(stats.code, stats.stderr).to.equal(0);
      expect(stats.stdout).to.match(/^Hints: +6$/m);
      expect(stats.stdout).to.match(/^Resident memory: +[\d.]+ MiB$/m);
      return Number(/^Subscriptions: +(\d+)$/m.exec(stats.stdout)?.[1]);
    };
    const before = await count();
    const dialog = await watch(udp, { user: '2000', fromUser: 'cli-stats-watcher', expires: 600 });
    expect(await count()).to.equal(before + 1);
    await dialog.refresh({ expires: 0 });
    expect(await count()).to.equal(before);
  });

  describe('refuses bad input without storing anything', function () {
    before(async function () {
      const result = await server.cli(['change', 'CustomPresence:6002', 'available,,Known good']);
      expect(result.code, result.stderr).to.equal(0);
    });

    const bad: Array<[string, string[]]> = [
      ['a provider that is not CustomPresence', ['change', 'SIP/6002', 'away']],
      ['an empty provider name', ['change', 'CustomPresence:', 'away']],
      ['an unknown state', ['change', 'CustomPresence:6002', 'awy']],
      ['an unknown option', ['change', 'CustomPresence:6002', 'away,a,b,x']],
    ];
    for (const [title, args] of bad) {
      it(`refuses ${title}`, async function () {
        const result = await server.cli(args);
        expect(result.code).not.to.equal(0);
        expect(result.stderr.trim()).not.to.equal('');
        const listing = (await server.cli(['list'])).stdout;
        expect(listing).not.to.include('SIP/6002');
        expect(listBlock(listing, '6002')).to.match(/State:\s*'available'/).and.to.match(/Message:\s*'Known good'/);
      });
    }
  });

  it('fails with a message when no daemon is running', async function () {
    const empty = await makeTempDir();
    try {
      const result = await runCli(empty, ['list']);
      expect(result.code).not.to.equal(0);
      expect(result.stderr.trim()).not.to.equal('');
    } finally {
      await removeDir(empty);
    }
  });
});
