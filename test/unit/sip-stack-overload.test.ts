// The SIP core's overload refusals, through a transport that records what would go on the wire: a refused request is
// answered 503 statelessly (RFC 3261 §8.2.7), so a retransmission of it is decided afresh, while the retransmission
// of an admitted request is still absorbed by its server transaction, even while the request waits in the queue.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { expect } from 'chai';
import { SipStack, type OverloadGate } from '../../lib/sip/stack.js';
import { UDP, type Flow, type Transport, type TransportEvents } from '../../lib/sip/transport.js';
import { DEFAULT_TIMERS } from '../../lib/sip/client-transaction.js';
import { createLogger } from '../../lib/util/log.js';
import { ERRORS, sipAnswer } from '../../lib/errors.js';

class RecordingTransport implements Transport {
  readonly kind = UDP;
  readonly address = { host: '127.0.0.1', port: 5060 };
  readonly sent: string[] = [];
  events: TransportEvents | undefined;
  async listen(events: TransportEvents): Promise<void> {
    this.events = events;
  }
  send(_flow: Flow, data: string | Buffer): boolean {
    this.sent.push(data.toString());
    return true;
  }
  async close(): Promise<void> {}
}

const FLOW: Flow = { kind: UDP, remoteHost: '127.0.0.1', remotePort: 5070, localHost: '127.0.0.1', localPort: 5060 };

function subscribe(branch: string, toTag = ''): Buffer {
  return Buffer.from([
    'SUBSCRIBE sip:6001@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=${branch};rport`,
    'Max-Forwards: 70',
    'From: <sip:w@127.0.0.1>;tag=w1',
    `To: <sip:6001@127.0.0.1>${toTag}`,
    `Call-ID: ${branch}@127.0.0.1`,
    'CSeq: 1 SUBSCRIBE',
    'Contact: <sip:w@127.0.0.1:5070>',
    'Event: presence',
    'Content-Length: 0',
    '', '',
  ].join('\r\n'));
}

const toTagOf = (response: string): string | undefined => /\r\nTo: [^\r]*;tag=([^;\r]+)/.exec(response)?.[1];

describe('SIP core: overload refusals', function () {
  let transport: RecordingTransport;
  let stack: SipStack;
  let handled: number;
  let shedding: boolean;
  let asked: Array<{ newWork: boolean; waitMs: number }>;

  beforeEach(async function () {
    transport = new RecordingTransport();
    stack = new SipStack([transport], createLogger('error', () => undefined), DEFAULT_TIMERS);
    const gate: OverloadGate = {
      shed: (newWork, waitMs) => {
        asked.push({ newWork, waitMs });
        return shedding;
      },
      refusal: () => ({ ...sipAnswer(ERRORS.OVERLOADED), headers: [['Retry-After', '10']] }),
    };
    stack.useOverloadGate(gate);
    handled = 0;
    shedding = true;
    asked = [];
    await stack.start(({ respond }) => {
      handled++;
      respond({ status: 200, reason: 'OK' });
    });
  });

  afterEach(async function () {
    await stack.stop();
  });

  it('answers a refused new SUBSCRIBE 503 with Retry-After and keeps no transaction for it', async function () {
    transport.events!.message(subscribe('z9hG4bKrefused'), FLOW);
    transport.events!.message(subscribe('z9hG4bKrefused'), FLOW);
    expect(transport.sent).to.have.lengthOf(2);
    for (const response of transport.sent) {
      expect(response).to.match(/^SIP\/2\.0 503 /);
      expect(response).to.match(/\r\nRetry-After: 10\r\n/);
    }
    // Two answers made one by one (each a fresh To tag), not one stored answer sent twice.
    expect(toTagOf(transport.sent[0]!)).to.not.equal(toTagOf(transport.sent[1]!));
    expect(handled).to.equal(0);
    // Decided afresh: once the load is gone, the retransmission is served.
    shedding = false;
    transport.events!.message(subscribe('z9hG4bKrefused'), FLOW);
    await nextTurn();
    expect(transport.sent[2]).to.match(/^SIP\/2\.0 200 /);
    expect(handled).to.equal(1);
    expect(asked.map(({ newWork }) => newWork)).to.deep.equal([true, true, true]);
  });

  it('still absorbs the retransmission of an admitted request, and asks about in-dialog SUBSCRIBEs as such', async function () {
    shedding = false;
    transport.events!.message(subscribe('z9hG4bKadmitted'), FLOW);
    // Retransmitted while the first copy still waits in the queue: absorbed, nothing sent yet.
    transport.events!.message(subscribe('z9hG4bKadmitted'), FLOW);
    expect(transport.sent).to.have.lengthOf(0);
    await nextTurn();
    expect(transport.sent).to.have.lengthOf(1);
    // Retransmitted after the answer, while new work is refused: the same answer again.
    shedding = true;
    transport.events!.message(subscribe('z9hG4bKadmitted'), FLOW);
    expect(transport.sent).to.have.lengthOf(2);
    expect(transport.sent[1]).to.equal(transport.sent[0]);
    expect(handled).to.equal(1);
    // The gate decides; it is told this one is not new work (a To tag).
    shedding = false;
    transport.events!.message(subscribe('z9hG4bKrefresh', ';tag=ours'), FLOW);
    await nextTurn();
    expect(transport.sent[2]).to.match(/^SIP\/2\.0 200 /);
    expect(handled).to.equal(2);
    expect(asked.map(({ newWork }) => newWork)).to.deep.equal([true, false]);
  });

  it('tells the gate how long a request would wait behind those already queued', async function () {
    shedding = false;
    for (let index = 0; index < 50; index++) transport.events!.message(subscribe(`z9hG4bKqueued${index}`), FLOW);
    expect(asked[0]!.waitMs).to.equal(0);
    expect(asked[49]!.waitMs).to.be.greaterThan(asked[1]!.waitMs);
    await nextTurn();
    while (handled < 50) await nextTurn();
    expect(transport.sent.filter((response) => /^SIP\/2\.0 200 /.test(response))).to.have.lengthOf(50);
  });
});
