// Overload control's decision: an episode starts when new work would wait five targets long, or over the target for
// 100 ms; within it a new SUBSCRIBE or PUBLISH that would wait longer than the target is refused; other requests only
// past a whole second of backlog; without a target the lag threshold is the target; an episode is logged once when it
// starts and once when it ends.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { LoadMonitor, type OverloadSettings } from '../../lib/overload/load-monitor.js';
import { createLogger } from '../../lib/util/log.js';

function monitor(settings: Partial<OverloadSettings> = {}): { monitor: LoadMonitor; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('info', (line) => lines.push(line));
  return { monitor: new LoadMonitor({ lagMs: 200, queueDelayMs: 20, retryAfterS: 10, ...settings }, log), lines };
}

describe('overload control: what is refused', function () {
  it('starts refusing new work on a backlog five targets long, then refuses it over the target until the episode ends', function () {
    const { monitor: gate, lines } = monitor();
    expect(gate.shed(true, 19)).to.equal(false);
    // Over the target, but a burst that may drain by itself.
    expect(gate.shed(true, 60)).to.equal(false);
    expect(gate.overloaded()).to.equal(false);
    expect(gate.shed(true, 101)).to.equal(true);
    expect(gate.overloaded()).to.equal(true);
    // Within the episode the target itself holds; under it, new work is taken at once.
    expect(gate.shed(true, 21)).to.equal(true);
    expect(gate.shed(true, 5)).to.equal(false);
    expect(gate.shed(true, 21)).to.equal(true);
    const starts = lines.filter((line) => line.includes('overload:'));
    expect(starts).to.have.lengthOf(1);
    expect(starts[0]).to.match(/requests would wait 101 ms to be handled \(over 20 ms\): answering new SUBSCRIBEs and PUBLISHes 503/);
  });

  it('starts refusing new work on a backlog over the target that stands for 100 ms', async function () {
    const { monitor: gate } = monitor();
    expect(gate.shed(true, 30)).to.equal(false);
    await sleep(120);
    expect(gate.shed(true, 30)).to.equal(true);
    // A dip under the target ends the count: the next backlog is a burst again.
    const other = monitor().monitor;
    expect(other.shed(true, 30)).to.equal(false);
    await sleep(120);
    expect(other.shed(true, 10)).to.equal(false);
    expect(other.shed(true, 30)).to.equal(false);
  });

  it('lets refreshes and un-subscribes wait up to a second, and refuses everything past it', function () {
    const { monitor: gate, lines } = monitor();
    expect(gate.shed(false, 999)).to.equal(false);
    expect(gate.shed(false, 1001)).to.equal(true);
    expect(lines.join('\n')).to.match(/requests would wait 1001 ms to be handled \(over 1000 ms\): answering every request 503/);
  });

  it('takes the lag threshold as the target when the queue-delay target is 0, and refuses nothing when the lag one is', function () {
    const lagOnly = monitor({ queueDelayMs: 0, lagMs: 50 }).monitor;
    expect(lagOnly.shed(true, 249)).to.equal(false);
    expect(lagOnly.shed(true, 251)).to.equal(true);
    expect(lagOnly.shed(true, 51)).to.equal(true);
    expect(lagOnly.shed(true, 49)).to.equal(false);
    const off = monitor({ lagMs: 0 }).monitor;
    expect(off.shed(true, 5000)).to.equal(false);
    expect(off.shed(false, 5000)).to.equal(false);
  });

  it('answers 503 with a Retry-After between the setting and twice it', function () {
    const { monitor: gate } = monitor({ retryAfterS: 3 });
    for (let index = 0; index < 50; index++) {
      const refusal = gate.refusal();
      expect(refusal.status).to.equal(503);
      expect(Number(refusal.headers[0]![1])).to.be.within(3, 6);
    }
  });

  it('ends the episode a second after the last refusal, with one line that counts the refusals', async function () {
    this.timeout(5000);
    const { monitor: gate, lines } = monitor();
    gate.start();
    try {
      for (const wait of [120, 40, 40]) if (gate.shed(true, wait)) gate.refusal();
      while (gate.overloaded()) await sleep(100);
      const ends = lines.filter((line) => line.includes('overload: over after'));
      expect(ends).to.have.lengthOf(1);
      expect(ends[0]).to.match(/peak wait 120 ms\): 3 request\(s\) answered 503/);
    } finally {
      gate.stop();
    }
  });
});
