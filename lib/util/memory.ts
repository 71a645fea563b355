import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from './log.js';

/**
 * A full garbage collection that also compacts every fragmented page, so that the emptied pages go back to the
 * system. V8 exposes no call for it: `gc` is made available at run time, and compaction is switched on for this one
 * collection only.
 */
export function compactingCollection(): void {
  collect ??= (globalThis as { gc?: () => void }).gc ?? exposeGc();
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    collect();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

let collect: (() => void) | undefined;

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  // A context made after the flag is set has `gc`.
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Gives memory back after a burst. When thousands of phones subscribe at once, the state of their transactions (each
 * response is kept for Timer J, 32 s) outlives the young generation and dies in the old one, between the long-lived
 * subscriptions, when the burst is over and nothing allocates any more: V8 then has no reason to collect, and the
 * heap stays as large as at the peak, its pages half empty. So when a large batch of transactions has just ended and
 * traffic is quiet (what is left is under a tenth of what ended), one compacting collection returns those pages.
 * With 100,000 idle subscriptions that is 205 → 147 MB of RSS. It pauses the event loop for about as long as a
 * full collection takes, which is why it waits for quiet.
 */
export class MemoryReclaimer {
  /** The heap size after the last compaction (or at start). */
  private floor = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    /** Fewer ended transactions than this leave too little behind to be worth a pause. */
    private readonly minEnded = 10_000,
    private readonly collectGarbage: () => void = compactingCollection,
  ) {}

  /**
   * After a flood that is over (subscriptions gone, the server idle), nothing may allocate for hours, and V8 keeps the
   * heap at its peak. Every `intervalMs` the heap is looked at: when it has more than doubled since the last
   * compaction (and is over `minHeapBytes`), one compacting collection gives the pages back — without waiting for
   * traffic to trigger one.
   */
  watchIdleHeap(intervalMs = 30_000, minHeapBytes = 64 * 2 ** 20): void {
    this.floor = process.memoryUsage().heapTotal;
    this.idleTimer = setInterval(() => {
      const { heapTotal } = process.memoryUsage();
      if (heapTotal < minHeapBytes || heapTotal < 2 * this.floor) return;
      this.compact(`the heap grew to ${Math.round(heapTotal / 2 ** 20)} MiB`);
    }, intervalMs).unref();
  }

  stop(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
  }

  transactionsEnded(ended: number, left: number): void {
    if (ended < this.minEnded || left * 10 > ended) return;
    this.compact(`${ended} transactions ended and traffic is quiet`);
  }

  private compact(why: string): void {
    const before = process.memoryUsage().heapTotal;
    const started = performance.now();
    this.collectGarbage();
    const after = process.memoryUsage().heapTotal;
    this.floor = after;
    const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`;
    this.log.info(`memory: ${why}; compacted the heap in ${Math.round(performance.now() - started)} ms (heap ${mib(before)} → ${mib(after)})`);
  }
}
