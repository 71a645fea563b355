import { performance } from 'node:perf_hooks';

/**
 * Work done on queued requests per turn of the event loop, ms, before the sockets are read again (a UDP socket gives
 * at most 32 datagrams a turn). Long enough that the work is done in batches, short enough that reading keeps up.
 */
const SLICE_MS = 1;
/** The wait estimate's first guess, ms per request, until the queue has been seen working through a backlog. */
const FIRST_MS_PER_REQUEST = 0.1;
/** A backlog is timed over at least this long before it counts as a sample, ms. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed time per request. */
const SMOOTHING = 0.25;

/**
 * Requests read but not yet handled. The core reads every message as soon as a transport has it, takes responses
 * and absorbs retransmissions at once, and queues each new request here; the queue is worked through a slice at a
 * time between reads. So a backlog builds in memory, where its length is known the moment a request arrives, and not
 * in the kernel's receive queue, where it shows only as late as the delay itself. `waitMs()` is how long a request
 * queued now would wait: what overload control (lib/overload) weighs before it takes new work on.
 */
export class RequestQueue {
  private tasks: Array<() => void> = [];
  private next = 0;
  private scheduled = false;
  /**
   * Wall time per request while a backlog is worked through, smoothed: everything else the loop does meanwhile
   * (reading, refusing, answers to our NOTIFYs, store continuations) is in it, as it is in a queued request's wait.
   */
  private msPerRequest = FIRST_MS_PER_REQUEST;
  /** Since when the queue has had a backlog without a break, and how many requests it has handled since. */
  private backlogSince: number | undefined;
  private handledInBacklog = 0;

  get length(): number {
    return this.tasks.length - this.next;
  }

  /** How long a request queued now would wait before it is handled, ms. */
  waitMs(): number {
    return this.length * this.msPerRequest;
  }

  push(task: () => void): void {
    this.tasks.push(task);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.work);
  }

  /** Drops what is queued (the server is stopping). */
  clear(): void {
    this.tasks = [];
    this.next = 0;
  }

  private readonly work = (): void => {
    this.scheduled = false;
    const start = performance.now();
    this.timeBacklog(start);
    let now = start;
    let handled = 0;
    while (this.next < this.tasks.length && now - start < SLICE_MS) {
      const task = this.tasks[this.next]!;
      this.tasks[this.next++] = noop;
      task();
      handled++;
      now = performance.now();
    }
    if (this.next === this.tasks.length) {
      // Emptied within the slice: each request waited for no more than the handling of those before it.
      if (handled > 0) this.msPerRequest += SMOOTHING * ((now - start) / handled - this.msPerRequest);
      this.tasks = [];
      this.next = 0;
      this.backlogSince = undefined;
      return;
    }
    // Reclaim the handled front now and then instead of shifting the array at every request.
    if (this.next > 1024 && this.next * 2 > this.tasks.length) {
      this.tasks = this.tasks.slice(this.next);
      this.next = 0;
    }
    if (this.backlogSince === undefined) {
      this.backlogSince = start;
      this.handledInBacklog = 0;
    }
    this.handledInBacklog += handled;
    this.scheduled = true;
    setImmediate(this.work);
  };

  /** While a backlog lasts, the time from its start to now over the requests handled meanwhile is the time each takes. */
  private timeBacklog(now: number): void {
    if (this.backlogSince === undefined || now - this.backlogSince < SAMPLE_MS || this.handledInBacklog === 0) return;
    const sample = (now - this.backlogSince) / this.handledInBacklog;
    this.msPerRequest += SMOOTHING * (sample - this.msPerRequest);
    this.backlogSince = now;
    this.handledInBacklog = 0;
  }
}

function noop(): void {}
