import { expect } from 'chai';
import { ReceiveQueueProbe } from '../../lib/sip/receive-queue-probe.js';

describe('ReceiveQueueProbe', function () {
  let sent: Buffer[];
  let probe: ReceiveQueueProbe;
  /** A load-monitor sample at `now`: the delay the probe reports, and how many probes it has sent by then. */
  const sample = (now: number) => ({ delay: probe.delayMs(now), sent: sent.length });

  beforeEach(function () {
    sent = [];
    probe = new ReceiveQueueProbe((datagram) => sent.push(datagram));
  });

  it('sends one probe at a time and reads the queueing delay from it when it comes back', function () {
    expect(sample(1000)).to.deep.equal({ delay: 0, sent: 1 });
    // Still on its way: no second probe, and its age is the delay so far.
    expect(sample(1030)).to.deep.equal({ delay: 30, sent: 1 });
    expect(probe.take(sent[0]!, 1042)).to.equal(true);
    // The next sample sends the next probe and reports the delay the last one measured.
    expect(sample(1050)).to.deep.equal({ delay: 42, sent: 2 });
    // That one came back at once: the queue has drained.
    expect(probe.take(sent[1]!, 1051)).to.equal(true);
    expect(sample(1070)).to.deep.equal({ delay: 1, sent: 3 });
  });

  it('sends at most one probe every 5 ms, however often it is asked (overload control asks at every request)', function () {
    expect(sample(1000)).to.deep.equal({ delay: 0, sent: 1 });
    expect(probe.take(sent[0]!, 1000.25)).to.equal(true);
    // Back already, but the last went out under 5 ms ago: its reading stands.
    expect(sample(1001)).to.deep.equal({ delay: 0.25, sent: 1 });
    expect(sample(1004.9)).to.deep.equal({ delay: 0.25, sent: 1 });
    expect(sample(1005)).to.deep.equal({ delay: 0.25, sent: 2 });
  });

  it('reports the age of a probe still queued when that is longer than the last measured delay', function () {
    probe.delayMs(0);
    expect(probe.delayMs(400)).to.equal(400);
    expect(probe.delayMs(900)).to.equal(900);
  });

  it('sends another probe when one has not come back within a second (a full queue drops datagrams)', function () {
    probe.delayMs(0);
    expect(sample(999)).to.deep.equal({ delay: 999, sent: 1 });
    expect(sample(1001)).to.deep.equal({ delay: 0, sent: 2 });
    // The lost one arriving late after all still tells its delay; the new one stays awaited.
    expect(probe.take(sent[0]!, 1500)).to.equal(true);
    expect(sample(1510)).to.deep.equal({ delay: 1500, sent: 2 });
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
