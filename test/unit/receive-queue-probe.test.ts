import { expect } from 'chai';
import { ReceiveQueueProbe } from '../../lib/sip/receive-queue-probe.js';

describe('ReceiveQueueProbe', function () {
  let sent: Buffer[];
  let probe: ReceiveQueueProbe;

  beforeEach(function () {
    sent = [];
    probe = new ReceiveQueueProbe((datagram) => sent.push(datagram));
  });

  it('sends one probe at a time and reads the queueing delay from it when it comes back', function () {
    expect(probe.delayMs(1000)).to.equal(0);
    expect(sent).to.have.lengthOf(1);
    // Still on its way: no second probe, and its age is the delay so far.
    expect(probe.delayMs(1030)).to.equal(30);
    expect(sent).to.have.lengthOf(1);
    expect(probe.take(sent[0]!, 1042)).to.equal(true);
    // The next sample sends the next probe and reports the delay the last one measured.
    expect(probe.delayMs(1050)).to.equal(42);
    expect(sent).to.have.lengthOf(2);
    // That one came back at once: the queue has drained.
    expect(probe.take(sent[1]!, 1051)).to.equal(true);
    expect(probe.delayMs(1070)).to.equal(1);
  });

  it('reports the age of a probe still queued when that is longer than the last measured delay', function () {
    probe.delayMs(0);
    expect(probe.delayMs(400)).to.equal(400);
    expect(probe.delayMs(900)).to.equal(900);
  });

  it('sends another probe when one has not come back within a second (a full queue drops datagrams)', function () {
    probe.delayMs(0);
    probe.delayMs(999);
    expect(sent).to.have.lengthOf(1);
    expect(probe.delayMs(1001)).to.equal(0);
    expect(sent).to.have.lengthOf(2);
    // The lost one arriving late after all still tells its delay; the new one stays awaited.
    expect(probe.take(sent[0]!, 1500)).to.equal(true);
    expect(probe.delayMs(1510)).to.equal(1500);
    expect(sent).to.have.lengthOf(2);
  });

  it('takes only its own probes: SIP, other lengths and another token are left to the SIP stack', function () {
    probe.delayMs(0);
    const own = sent[0]!;
    const forged = Buffer.from(own);
    forged[0] = forged[0]! ^ 0xff;
    expect(probe.take(forged)).to.equal(false);
    expect(probe.take(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'))).to.equal(false);
    expect(probe.take(own.subarray(0, own.length - 1))).to.equal(false);
    expect(probe.take(Buffer.alloc(own.length))).to.equal(false);
    // Another process's probe (another token) is not ours either.
    const other: Buffer[] = [];
    new ReceiveQueueProbe((datagram) => other.push(datagram)).delayMs(0);
    expect(probe.take(other[0]!)).to.equal(false);
    expect(probe.take(own)).to.equal(true);
  });
});
