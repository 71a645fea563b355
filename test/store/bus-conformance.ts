/**
 * The one behavioural suite every ChangeBus backend must pass unchanged (see docs/STORE.md, "Adding a backend").
 * Each harness gives two buses of one backend: two nodes.
 */
import { expect } from 'chai';
import { BusClosedError, type BusListener, type ChangeBus, type StateChange } from '../../lib/store/change-bus.js';

export interface BusHarness {
  /** Two nodes' buses over the same backend. */
  nodes: [ChangeBus, ChangeBus];
  /** Cuts the first node's connection to the backend and lets it reconnect; given only by networked backends. */
  interrupt?: () => Promise<void>;
  cleanup: () => Promise<void>;
}

/** Collects what a listener hears. */
class Recorder implements BusListener {
  readonly changes: StateChange[] = [];
  resyncs = 0;

  change(change: StateChange): void {
    this.changes.push(change);
  }

  resync(): void {
    this.resyncs++;
  }

  /** Resolves once `count` changes have arrived; fails after a generous deadline (a lost message, not a slow one). */
  async heard(count: number): Promise<StateChange[]> {
    await until(() => this.changes.length >= count, () => `heard ${this.changes.length} of ${count} change(s)`);
    return this.changes;
  }
}

async function until(done: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Publishes a marker and waits for it: everything published before it on that bus has been delivered too. */
async function settle(bus: ChangeBus, recorder: Recorder): Promise<void> {
  const marker = { key: `marker-${Math.random()}`, version: 1, node: 'settle' };
  await bus.publish(marker);
  await until(() => recorder.changes.some((change) => change.key === marker.key), () => 'the marker did not arrive');
  recorder.changes.splice(recorder.changes.findIndex((change) => change.key === marker.key), 1);
}

const HOSTILE = ['', 'Ünïcödé 日本語 😀', 'quote " and \\ backslash', 'line\nbreak', 'x'.repeat(10_000)];

export function busConformance(name: string, open: () => Promise<BusHarness>): void {
  describe(`change bus conformance: ${name}`, function () {
    let harness: BusHarness;
    let a: ChangeBus;
    let b: ChangeBus;

    beforeEach(async function () {
      harness = await open();
      [a, b] = harness.nodes;
    });

    afterEach(async function () {
      await a.close();
      await b.close();
      await harness.cleanup();
    });

    it('delivers a change to the listeners of every node, the publisher included, with every field intact', async function () {
      const onA = new Recorder();
      const onB = new Recorder();
      a.listen(onA);
      b.listen(onB);
      const change: StateChange = { key: 'CustomPresence:6002', version: 7, node: 'node-a' };
      await a.publish(change);
      expect(await onB.heard(1)).to.deep.equal([change]);
      expect(await onA.heard(1)).to.deep.equal([change]);
    });

    it('carries hostile keys and node names exactly', async function () {
      const onB = new Recorder();
      b.listen(onB);
      const changes = HOSTILE.map((text, index) => ({ key: text, version: index + 1, node: text }));
      for (const change of changes) await a.publish(change);
      expect(await onB.heard(changes.length)).to.deep.equal(changes);
    });

    it('keeps the order of one key\'s changes from one publisher', async function () {
      const onB = new Recorder();
      b.listen(onB);
      const changes = Array.from({ length: 200 }, (_, index) => ({ key: 'CustomPresence:6002', version: index + 1, node: 'node-a' }));
      await Promise.all(changes.map((change) => a.publish(change)));
      expect((await onB.heard(changes.length)).map((change) => change.version)).to.deep.equal(changes.map((change) => change.version));
    });

    it('gives each of several listeners on one node its own copy', async function () {
      const first = new Recorder();
      const second = new Recorder();
      b.listen(first);
      b.listen(second);
      await a.publish({ key: 'k', version: 1, node: 'node-a' });
      const [heard] = await first.heard(1);
      heard.key = 'changed by the first listener';
      expect(await second.heard(1)).to.deep.equal([{ key: 'k', version: 1, node: 'node-a' }]);
    });

    it('stops delivering to a listener once it stops listening, and only to that one', async function () {
      const stopped = new Recorder();
      const kept = new Recorder();
      const stop = b.listen(stopped);
      b.listen(kept);
      await a.publish({ key: 'k', version: 1, node: 'node-a' });
      await stopped.heard(1);
      stop();
      stop();
      await a.publish({ key: 'k', version: 2, node: 'node-a' });
      await settle(a, kept);
      expect(kept.changes.map((change) => change.version)).to.deep.equal([1, 2]);
      expect(stopped.changes.map((change) => change.version)).to.deep.equal([1]);
    });

    it('closes idempotently: publish rejects with BusClosedError, its listeners hear nothing more, the others go on', async function () {
      const onA = new Recorder();
      const onB = new Recorder();
      a.listen(onA);
      b.listen(onB);
      await a.close();
      await a.close();
      let failure: unknown;
      await a.publish({ key: 'k', version: 1, node: 'node-a' }).catch((error: unknown) => (failure = error));
      expect(failure).to.be.instanceOf(BusClosedError);
      await b.publish({ key: 'k', version: 2, node: 'node-b' });
      await settle(b, onB);
      expect(onB.changes.map((change) => change.version)).to.deep.equal([2]);
      expect(onA.changes).to.deep.equal([]);
    });

    it('asks its listeners to re-read everything after its connection was interrupted, and delivers again (networked backends)', async function () {
      const { interrupt } = harness;
      if (!interrupt) this.skip();
      const onA = new Recorder();
      a.listen(onA);
      await interrupt();
      await until(() => onA.resyncs > 0, () => 'no resync after the interruption');
      await b.publish({ key: 'k', version: 3, node: 'node-b' });
      expect(await onA.heard(1)).to.deep.equal([{ key: 'k', version: 3, node: 'node-b' }]);
    });
  });
}
