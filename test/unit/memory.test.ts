import v8 from 'node:v8';
import { expect } from 'chai';
import { compactingCollection, MemoryReclaimer } from '../../lib/util/memory.js';
import { createLogger } from '../../lib/util/log.js';

describe('util/memory', () => {
  it('compactingCollection gives back the pages of garbage that died among survivors', () => {
    const survivors: object[] = [];
    let garbage: object[] | undefined = [];
    for (let i = 0; i < 400_000; i++) {
      const item = { i, text: `value ${i}`, list: [i] };
      if (i % 10 === 0) survivors.push(item);
      else garbage.push(item);
    }
    garbage = undefined;
    const before = v8.getHeapStatistics().total_heap_size;
    compactingCollection();
    const after = v8.getHeapStatistics().total_heap_size;
    expect(after, 'heap bytes after').to.be.below(before - 20 * 2 ** 20);
    expect(survivors).to.have.length(40_000);
  });

  describe('MemoryReclaimer', () => {
    function reclaimer(): { reclaimer: MemoryReclaimer; collections: () => number; lines: string[] } {
      let collections = 0;
      const lines: string[] = [];
      const log = createLogger('info', (line) => lines.push(line));
      return { reclaimer: new MemoryReclaimer(log, 10_000, () => collections++), collections: () => collections, lines };
    }

    it('collects once a large batch of transactions ended and traffic is quiet, and says so', () => {
      const { reclaimer: memory, collections, lines } = reclaimer();
      memory.transactionsEnded(100_000, 12);
      expect(collections()).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/memory: 100000 transactions ended and traffic is quiet; compacted the heap in \d+ ms/);
    });

    it('leaves small batches and busy traffic to V8', () => {
      const { reclaimer: memory, collections, lines } = reclaimer();
      memory.transactionsEnded(9_999, 0);
      memory.transactionsEnded(100_000, 10_001);
      expect(collections()).to.equal(0);
      expect(lines).to.deep.equal([]);
    });

    it('compacts an idle heap that doubled since the last look, without any traffic to trigger it (D13)', async () => {
      const { reclaimer: memory, collections, lines } = reclaimer();
      memory.watchIdleHeap(20, 0);
      try {
        // What a flood leaves behind: the heap grows to twice its size, then nothing happens.
        const floor = process.memoryUsage().heapTotal;
        const held: string[][] = [];
        while (process.memoryUsage().heapTotal < 2.5 * floor) held.push(Array.from({ length: 10_000 }, (_, i) => `row ${i} ${held.length}`));
        for (let waited = 0; collections() === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(collections()).to.equal(1);
        expect(lines[0]).to.match(/memory: the heap grew to \d+ MiB; compacted the heap in \d+ ms/);
        expect(held.length).to.be.above(0);
      } finally {
        memory.stop();
      }
    });
  });
});
