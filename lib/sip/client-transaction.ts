import type { SipResponse } from './message.js';
import type { Flow, Target } from './transport.js';
import type { Scheduled, TimerQueue } from '../util/timer-queue.js';

/** RFC 3261 §17.1.1.1 defaults; both can be set per server (`--t1`, `--t2`). */
export interface TimerSettings { t1: number; t2: number }
export const DEFAULT_TIMERS: TimerSettings = { t1: 500, t2: 4000 };

/** How a client transaction ended: a final response, or the status §8.1.3.1 says to assume (408 timeout, 503 transport). */
export interface TransactionResult { status: number; response?: SipResponse }

export interface OutgoingRequest {
  branch: string;
  method: string;
  /**
   * The start line and headers, and the body's bytes (shared by every request that carries it): encoded at each
   * (re)transmission, so that no encoded copy outlives its send (see encodeMessage).
   */
  head: string;
  body?: Buffer;
  flow: Flow;
  /** Where to connect when the flow's connection is gone (transports that dial out only). */
  fallback?: Target;
}

/** What a transaction needs from the stack; one object for all transactions, so none allocates closures. */
export interface TransactionOwner {
  /** Sends the request; `retransmission` is true for Timer E's sends. */
  transmit(request: OutgoingRequest, retransmission?: boolean): boolean;
  completed(transaction: NonInviteClientTransaction, result: TransactionResult): void;
  /** The one timer queue of all client transactions (a heap slot each instead of a Node timer each). */
  readonly timers: TimerQueue<NonInviteClientTransaction>;
}

/**
 * A non-INVITE client transaction (RFC 3261 §17.1.2). Over UDP the request is retransmitted on Timer E, starting at T1
 * and doubling up to T2 (staying at T2 once a provisional response arrived); Timer F (64·T1) ends it as a timeout.
 * Over TCP there are no retransmissions, only Timer F. Timer K is not kept: a late retransmitted response simply
 * matches no transaction and is dropped. E and F share one entry in the owner's TimerQueue, due at whichever comes
 * first; the queue calls `timerFired` (see SipStack).
 */
export class NonInviteClientTransaction implements Scheduled {
  /** Scheduled: when E or F is due, and the position in the owner's timer heap. */
  dueAt = 0;
  heapIndex = -1;
  private readonly deadline: number;
  private interval: number;
  private proceeding = false;
  done = false;

  constructor(
    readonly request: OutgoingRequest,
    private readonly settings: TimerSettings,
    private readonly owner: TransactionOwner,
    readonly onResult: (result: TransactionResult) => void,
  ) {
    this.interval = settings.t1;
    const now = Date.now();
    this.deadline = now + 64 * settings.t1;
    if (!owner.transmit(request)) {
      // §8.1.3.1: a transport failure is treated as a 503.
      queueMicrotask(() => this.end({ status: 503 }));
      return;
    }
    owner.timers.schedule(this, !request.flow.kind.reliable ? Math.min(now + this.interval, this.deadline) : this.deadline);
  }

  /** §17.1.2.2: provisional responses move to Proceeding, a final response completes the transaction. */
  receive(response: SipResponse): void {
    if (this.done) return;
    if (response.status < 200) {
      this.proceeding = true;
      return;
    }
    this.end({ status: response.status, response });
  }

  cancel(): void {
    this.done = true;
    this.owner.timers.cancel(this);
  }

  /** Timer F ends the transaction; Timer E retransmits (UDP only) and doubles, capped at T2. */
  timerFired(): void {
    if (this.done) return;
    const now = Date.now();
    if (now >= this.deadline || this.request.flow.kind.reliable) {
      this.end({ status: 408 });
      return;
    }
    this.owner.transmit(this.request, true);
    this.interval = this.proceeding ? this.settings.t2 : Math.min(2 * this.interval, this.settings.t2);
    this.owner.timers.schedule(this, Math.min(now + this.interval, this.deadline));
  }

  private end(result: TransactionResult): void {
    if (this.done) return;
    this.done = true;
    this.owner.timers.cancel(this);
    this.owner.completed(this, result);
  }
}
