// RFC 3261 §17 transactions on the wire: NOTIFY retransmission by Timer E (§17.1.2.2) and absorbed SUBSCRIBE
// retransmissions (§17.2.2, §17.2.3).
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { listedSubscriptions, startServer } from '../helpers/server.js';
import type { PresenceServer } from '../helpers/server.js';
import { eventually, newTag, UdpSipClient } from '../helpers/sip-client.js';
import type { ArrivedRequest } from '../helpers/sip-client.js';
import { parseVia } from '../helpers/wire.js';
import type { SipMessage } from '../helpers/wire.js';

const T1 = 150;
const T2 = 600;

function branchOf(message: SipMessage): string | undefined {
  return parseVia(message.headerValues('Via')[0]).branch;
}

describe('integration: reliability — transactions', function () {
  let server: PresenceServer;
  let client: UdpSipClient;

  afterEach(async function () {
    await client?.close();
    await server?.stop();
  });

  it('retransmits an unanswered NOTIFY on Timer E: intervals double from T1, then stay at T2; a 200 stops it', async function () {
    server = await startServer({ args: ['--t1', String(T1), '--t2', String(T2)] });
    client = await UdpSipClient.open(server.udpPort);
    client.autoAnswerNotify = false;
    const dialog = await client.subscribeDialog();
    const notify = await dialog.nextNotify();
    const branch = branchOf(notify);
    const copies = (): ArrivedRequest[] => client.requests.filter(({ message }) => branchOf(message) === branch);

    // Sent at 0, then at T1, 3·T1, 7·T1 (= 3·T1 + T2), +T2, +T2: gaps T1, 2·T1, T2, T2, T2.
    await eventually(() => copies().length >= 6, 4000, 'five NOTIFY retransmissions');
    const arrivals = copies().slice(0, 6);
    for (const { message } of arrivals) expect(message.raw, 'a retransmission is the same request').to.equal(notify.raw);
    const gaps = arrivals.slice(1).map(({ at }, i) => at - arrivals[i].at);
    expect(gaps[1], `gaps ${gaps.join(', ')} ms: the second doubles the first`).to.be.at.least(gaps[0] * 1.3);
    expect(gaps[2], `gaps ${gaps.join(', ')} ms: the third doubles the second`).to.be.at.least(gaps[1] * 1.3);
    for (const capped of gaps.slice(3)) {
      expect(capped, `gaps ${gaps.join(', ')} ms: capped at T2, no more doubling`).to.be.below(gaps[2] * 1.6);
    }

    await client.respond(notify, 200, 'OK');
    const answeredAfter = copies().length;
    await sleep(3 * T2);
    expect(copies().length, 'retransmissions after the 200').to.be.at.most(answeredAfter + 1);
    await dialog.expectNoNotify(0);
  });

  const branches: Array<[string, string | undefined]> = [
    ['an RFC 3261 branch', `z9hG4bK${newTag()}`],
    ['no branch (RFC 2543 matching, §17.2.3)', undefined],
  ];
  for (const [title, branch] of branches) {
    it(`answers a retransmitted SUBSCRIBE with ${title} from the cache, creating one subscription`, async function () {
      server = await startServer();
      client = await UdpSipClient.open(server.udpPort);
      const fromUser = `retransmitter-${newTag()}`;
      const via = `SIP/2.0/UDP 127.0.0.1:${client.localPort}${branch === undefined ? '' : `;branch=${branch}`};rport`;
      const { request, response, dialog } = await client.subscribe({ fromUser, set: { Via: via } });
      expect(response.status).to.equal(200);
      if (!dialog) throw new Error('the 200 has no To tag');
      const again = await client.request(request);
      expect(again.raw, 'the same response, To tag included').to.equal(response.raw);

      await dialog.nextNotify();
      // A retransmission after the NOTIFY (the 200 was lost) still gets the stored response, and nothing more.
      expect((await client.request(request)).raw).to.equal(response.raw);
      await dialog.expectNoNotify(1000);
      expect(await listedSubscriptions(server, fromUser)).to.equal(1);
    });
  }
});
