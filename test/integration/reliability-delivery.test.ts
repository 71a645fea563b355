// The NOTIFY delivery policy (docs/RELIABILITY.md): refusals end a subscription at once, transient failures are
// retried with a new transaction until --notify-failures in a row, and bursts coalesce for a slow watcher.
import { expect } from 'chai';
import { controlRequest } from '../../lib/control/control-client.js';
import { listedSubscriptions, makeTempDir, removeDir, startServer } from '../helpers/server.js';
import type { PresenceServer, ServerOptions } from '../helpers/server.js';
import { eventually, newCallId, newTag, UdpSipClient } from '../helpers/sip-client.js';
import type { NotifyAnswer } from '../helpers/sip-client.js';
import { parsePidf, parseVia, subscriptionState } from '../helpers/wire.js';
import type { SipMessage } from '../helpers/wire.js';

const OK: NotifyAnswer = { status: 200, reason: 'OK' };

function noteOf(notify: SipMessage): string | undefined {
  return parsePidf(notify.body).notes[0];
}

function cseqOf(notify: SipMessage): number {
  const seq = notify.cseq?.seq;
  if (seq === undefined) throw new Error(`NOTIFY without a CSeq:\n${notify.raw}`);
  return seq;
}

describe('integration: reliability — NOTIFY delivery policy', function () {
  let server: PresenceServer;
  let client: UdpSipClient;

  async function start(options: ServerOptions = {}): Promise<void> {
    server = await startServer(options);
    client = await UdpSipClient.open(server.udpPort);
  }

  async function change(entity: string, value: string): Promise<void> {
    const result = await server.cli(['change', entity, value]);
    expect(result.code, result.stderr).to.equal(0);
  }

  afterEach(async function () {
    await client?.close();
    await server?.stop();
  });

  const refusals: NotifyAnswer[] = [
    { status: 481, reason: 'Subscription Does Not Exist' },
    { status: 603, reason: 'Decline' },
  ];
  for (const refusal of refusals) {
    it(`drops the subscription at once when a NOTIFY is answered ${refusal.status} (RFC 6665 §4.2.2)`, async function () {
      await start();
      const fromUser = `refused-${newTag()}`;
      const callId = newCallId();
      let refuse = false;
      client.notifyAnswer = (notify) => (notify.callId === callId && refuse ? refusal : OK);
      const dialog = await client.subscribeDialog({ fromUser, callId, user: '7000' });
      await dialog.nextNotify();
      expect(await listedSubscriptions(server, fromUser)).to.equal(1);

      refuse = true;
      await change('CustomPresence:7000', 'away,,refused');
      await dialog.nextNotify();
      await eventually(async () => (await listedSubscriptions(server, fromUser)) === 0, 3000, 'the refused subscription to go');
      await change('CustomPresence:7000', 'dnd,,after the refusal');
      await dialog.expectNoNotify(1000);
    });
  }

  it('drops a new subscription whose first NOTIFY gets no response at all, after Timer F (RFC 6665 §4.2.2)', async function () {
    this.timeout(30000);
    // Timer F = 64·T1 = 1.28 s.
    const dataDir = await makeTempDir();
    try {
      await start({ args: ['--t1', '20'], logLevel: 'info', dataDir });
      client.autoAnswerNotify = false;
      const fromUser = `unanswered-${newTag()}`;
      const dialog = await client.subscribeDialog({ fromUser, user: '7000' });
      const first = await dialog.nextNotify();
      await eventually(() => client.retransmissions > 0, 3000, 'a retransmission of the first NOTIFY');

      await eventually(async () => (await listedSubscriptions(server, fromUser)) === 0, 10000, 'the subscription to be dropped');
      const refresh = await dialog.refresh();
      expect(refresh.status, 'an in-dialog refresh after the drop').to.equal(481);
      await change('CustomPresence:7000', 'away,,after the drop');
      await dialog.expectNoNotify(1000);
      const sent = client.requests.filter(({ message }) => message.callId === dialog.callId);
      expect(new Set(sent.map(({ message }) => message.raw)).size, 'one NOTIFY, only retransmitted, never retried').to.equal(1);
      expect(cseqOf(sent[0]!.message)).to.equal(cseqOf(first));
      const lines = server.stderr().split('\n').filter((line) => line.includes(fromUser) && line.includes('dropping subscription'));
      expect(lines, server.stderr()).to.have.length(1);
      expect(lines[0]).to.include('its first NOTIFY got no response (Timer F)');

      // Gone from the store too: a restart on the same data directory restores nothing for it.
      await server.stop();
      server = await startServer({ dataDir });
      expect(await listedSubscriptions(server, fromUser), 'restored after a restart').to.equal(0);
      await dialog.expectNoNotify(1000);
    } finally {
      await server?.stop();
      await removeDir(dataDir);
    }
  });

  it('drops the subscription only after --notify-failures NOTIFY transactions timed out in a row', async function () {
    this.timeout(30000);
    await start({ args: ['--t1', '50', '--notify-failures', '2'] });
    const fromUser = `silent-${newTag()}`;
    const dialog = await client.subscribeDialog({ fromUser, user: '7000' });
    // The watcher answers its first NOTIFY (a confirmed dialog), then falls silent.
    await dialog.nextNotify();
    client.autoAnswerNotify = false;
    await change('CustomPresence:7000', 'away,,nobody listens');
    const first = await dialog.nextNotify();
    expect(await listedSubscriptions(server, fromUser)).to.equal(1);

    // Timer F (64·T1 = 3.2 s) ends the first transaction; the retry is a new one: new branch, next CSeq.
    const second = await dialog.nextNotify(10000);
    expect(cseqOf(second)).to.equal(cseqOf(first) + 1);
    expect(parseVia(second.headerValues('Via')[0]).branch).not.to.equal(parseVia(first.headerValues('Via')[0]).branch);
    expect(await listedSubscriptions(server, fromUser), 'listed after one failure').to.equal(1);

    await eventually(async () => (await listedSubscriptions(server, fromUser)) === 0, 10000, 'the subscription to be dropped');
    const transactions = new Set(
      client.requests.filter(({ message }) => message.callId === dialog.callId).map(({ message }) => message.header('CSeq')),
    );
    expect([...transactions], 'NOTIFY transactions before the drop, the answered one included').to.have.length(3);
    await dialog.expectNoNotify(1000);
  });

  it('retries after a 503 with Retry-After in a new transaction with the newest state; a 200 resets the count', async function () {
    this.timeout(20000);
    await start({ args: ['--notify-failures', '2'] });
    const fromUser = `busy-${newTag()}`;
    const callId = newCallId();
    const busy: NotifyAnswer = { status: 503, reason: 'Service Unavailable', headers: ['Retry-After: 1'] };
    let answer = OK;
    client.notifyAnswer = (notify) => (notify.callId === callId ? answer : OK);
    const dialog = await client.subscribeDialog({ fromUser, callId, user: '7000' });
    await dialog.nextNotify();

    answer = busy;
    await change('CustomPresence:7000', 'away,,first try');
    const refused = await dialog.nextNotify();
    const refusedAt = Date.now();
    answer = OK;
    await change('CustomPresence:7000', 'away,,newest');
    const retry = await dialog.nextNotify(5000);
    expect(Date.now() - refusedAt, 'the retry waits for Retry-After: 1').to.be.at.least(800);
    expect(cseqOf(retry)).to.equal(cseqOf(refused) + 1);
    expect(noteOf(retry), 'the retry carries the newest state').to.equal('newest');
    expect(subscriptionState(retry).state).to.equal('active');
    expect(await listedSubscriptions(server, fromUser)).to.equal(1);

    // With --notify-failures 2 a second 503 would end the subscription, unless the 200 reset the count.
    answer = busy;
    await change('CustomPresence:7000', 'dnd,,second try');
    const refusedAgain = await dialog.nextNotify();
    answer = OK;
    const retryAgain = await dialog.nextNotify(5000);
    expect(cseqOf(retryAgain)).to.equal(cseqOf(refusedAgain) + 1);
    expect(noteOf(retryAgain)).to.equal('second try');
    expect(await listedSubscriptions(server, fromUser)).to.equal(1);
  });

  it('coalesces ten rapid changes for a slow watcher into fewer NOTIFYs that end on the last state', async function () {
    this.timeout(30000);
    await start();
    const callId = newCallId();
    const answerDelayMs = 500;
    client.notifyAnswer = (notify) => (notify.callId === callId ? { ...OK, delayMs: answerDelayMs } : OK);
    const dialog = await client.subscribeDialog({ callId, user: '2000' });
    const initial = await dialog.nextNotify();

    const changes = Array.from({ length: 10 }, (_, i) => `burst ${i + 1}`);
    // Each change is acknowledged on the control socket (what the CLI sends, without starting a process per change,
    // which on a busy machine can take longer than the watcher's 500 ms); none waits for its NOTIFY.
    for (const message of changes) {
      const answer = await controlRequest(server.dataDir, { command: 'change', entity: 'CustomPresence:2000', value: `away,,${message}` });
      expect(answer.ok, JSON.stringify(answer)).to.equal(true);
    }

    const notifies: SipMessage[] = [];
    while (noteOf(notifies.at(-1) ?? initial) !== changes.at(-1)) notifies.push(await dialog.nextNotify(10000));
    await dialog.expectNoNotify(1500);

    const summary = notifies.map((notify) => `${cseqOf(notify)}: ${noteOf(notify)}`).join('; ');
    expect(notifies.length, summary).to.be.below(changes.length);
    notifies.forEach((notify, i) => expect(cseqOf(notify), summary).to.equal(cseqOf(initial) + i + 1));
    const order = notifies.map((notify) => changes.indexOf(noteOf(notify) ?? ''));
    expect(order, `${summary}: only states of the burst, never an older one after a newer`).to.satisfy((indexes: number[]) =>
      indexes.every((index, i) => index >= 0 && (i === 0 || index > indexes[i - 1])),
    );
    // One NOTIFY outstanding at a time: each leaves only after our delayed 200 to the one before (10 ms for clocks).
    const firstArrivals = [initial, ...notifies].map((notify) => client.requests.find(({ message }) => message.raw === notify.raw)!.at);
    firstArrivals.slice(1).forEach((at, i) => expect(at - firstArrivals[i], summary).to.be.at.least(answerDelayMs - 10));
  });
});
