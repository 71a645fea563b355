import { MILLISECOND_CLOCK, type Clock } from './clock.js';

/**
 * One timer for many deadlines: a binary min-heap of items ordered by `dueAt`, with a single armed setTimeout for the
 * earliest. Subscriptions and publications use it instead of a timer each, so 100,000 idle subscriptions cost a heap
 * slot, not a Timeout object. Items carry their heap position, so rescheduling and cancelling are O(log n) and leave
 * nothing behind.
 */
export interface Scheduled {
  dueAt: number;
  /** Position in the heap; -1 while not scheduled. */
  heapIndex: number;
}

export class TimerQueue<T extends Scheduled> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  /** `dueAt` values are in the clock's unit (milliseconds unless told otherwise). */
  constructor(private readonly fire: (item: T) => void, private readonly clock: Clock = MILLISECOND_CLOCK) {}

  /** (Re)schedules item at dueAt. */
  schedule(item: T, dueAt: number): void {
    item.dueAt = dueAt;
    if (item.heapIndex < 0) {
      item.heapIndex = this.heap.length;
      this.heap.push(item);
    }
    this.restore(item.heapIndex);
    if (dueAt < this.armedFor) this.arm();
  }

  cancel(item: T): void {
    const index = item.heapIndex;
    if (index < 0) return;
    item.heapIndex = -1;
    const last = this.heap.pop()!;
    if (last === item) return;
    this.heap[index] = last;
    last.heapIndex = index;
    this.restore(index);
  }

  isScheduled(item: T): boolean {
    return item.heapIndex >= 0;
  }

  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const top = this.heap[0];
    if (!top) return;
    this.armedFor = top.dueAt;
    // setTimeout takes a 32-bit delay; far deadlines re-arm on wake-up.
    const delay = Math.min(Math.max(0, this.clock.msUntil(top.dueAt)), 0x7fffffff);
    this.timer = setTimeout(() => this.run(), delay);
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.dueAt <= now; top = this.heap[0]) {
      this.cancel(top);
      this.fire(top);
    }
    this.arm();
  }

  /** Moves the item at `index` up or down until the heap order holds again. */
  private restore(index: number): void {
    const heap = this.heap;
    const item = heap[index]!;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.dueAt <= item.dueAt) break;
      this.place(heap[parent]!, i);
      i = parent;
    }
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.dueAt < heap[left]!.dueAt ? right : left;
      if (heap[child]!.dueAt >= item.dueAt) break;
      this.place(heap[child]!, i);
      i = child;
    }
    this.place(item, i);
  }

  private place(item: T, index: number): void {
    this.heap[index] = item;
    item.heapIndex = index;
  }
}
