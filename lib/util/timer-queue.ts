/**
 * One timer for many deadlines: a binary min-heap of (due, item) with a single armed setTimeout for the earliest.
 * Subscriptions use it instead of a timer each, so 100,000 idle subscriptions cost a heap slot, not a Timeout object.
 * Cancelling is lazy: an entry whose generation no longer matches the item's is skipped when it surfaces.
 */
export interface Scheduled { dueAt: number; generation: number }

interface Entry<T> { due: number; generation: number; item: T }

export class TimerQueue<T extends Scheduled> {
  private heap: Entry<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(private readonly fire: (item: T) => void, private readonly now: () => number = Date.now) {}

  /** (Re)schedules item at dueAt; an earlier schedule of the same item is cancelled. */
  schedule(item: T, dueAt: number): void {
    item.dueAt = dueAt;
    item.generation++;
    this.push({ due: dueAt, generation: item.generation, item });
    if (dueAt < this.armedFor) this.arm();
  }

  cancel(item: T): void {
    item.generation++;
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
    this.armedFor = top.due;
    // setTimeout takes a 32-bit delay; far deadlines re-arm on wake-up.
    const delay = Math.min(Math.max(0, top.due - this.now()), 0x7fffffff);
    this.timer = setTimeout(() => this.run(), delay);
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const entry = this.pop()!;
      if (entry.generation === entry.item.generation) {
        entry.item.generation++;
        this.fire(entry.item);
      }
    }
    this.arm();
  }

  private push(entry: Entry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.due <= entry.due) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry<T> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.due < heap[left]!.due ? right : left;
      if (heap[child]!.due >= last.due) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
