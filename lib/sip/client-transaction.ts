import type { SipResponse } from './message.js';
import type { Flow, Target } from './transport.js';

/** RFC 3261 §17.1.1.1 defaults; both can be set per server (`--t1`, `--t2`). */
export interface TimerSettings { t1: number; t2: number }
export const DEFAULT_TIMERS: TimerSettings = { t1: 500, t2: 4000 };

/** How a client transaction ended: a final response, or the status §8.1.3.1 says to assume (408 timeout, 503 transport). */
export interface TransactionResult { status: number; response?: SipResponse }

export interface OutgoingRequest {
  branch: string;
  method: string;
  text: string;
  flow: Flow;
  /** Where to connect when the flow's TCP connection is gone. */
  fallback?: Target;
}

/** What a transaction needs from the stack; one object for all transactions, so none allocates closures. */
export interface TransactionOwner {
  transmit(request: OutgoingRequest): boolean;
  completed(transaction: NonInviteClientTransaction, result: TransactionResult): void;
}

/**
 * A non-INVITE client transaction (RFC 3261 §17.1.2). Over UDP the request is retransmitted on Timer E, starting at T1
 * and doubling up to T2 (staying at T2 once a provisional response arrived); Timer F (64·T1) ends it as a timeout.
 * Over TCP there are no retransmissions, only Timer F. Timer K is not kept: a late retransmitted response simply
 * matches no transaction and is dropped. E and F share one Node timer, armed for whichever comes first.
 */
export class NonInviteClientTransaction {
  private timer: NodeJS.Timeout | undefined;
  private readonly deadline: number;
  private interval: number;
  private proceeding = false;
  done = false;

  constructor(
    readonly request: OutgoingRequest,
    private readonly timers: TimerSettings,
    private readonly owner: TransactionOwner,
    readonly onResult: (result: TransactionResult) => void,
  ) {
    this.interval = timers.t1;
    this.deadline = Date.now() + 64 * timers.t1;
    if (!owner.transmit(request)) {
      // §8.1.3.1: a transport failure is treated as a 503.
      queueMicrotask(() => this.end({ status: 503 }));
      return;
    }
    this.arm(request.flow.protocol === 'UDP' ? this.interval : 64 * timers.t1);
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
    if (this.timer) clearTimeout(this.timer);
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => this.tick(), Math.min(delay, Math.max(0, this.deadline - Date.now())));
  }

  /** Timer F ends the transaction; Timer E retransmits (UDP only) and doubles, capped at T2. */
  private tick(): void {
    if (this.done) return;
    if (Date.now() >= this.deadline || this.request.flow.protocol !== 'UDP') {
      this.end({ status: 408 });
      return;
    }
    this.owner.transmit(this.request);
    this.interval = this.proceeding ? this.timers.t2 : Math.min(2 * this.interval, this.timers.t2);
    this.arm(this.interval);
  }

  private end(result: TransactionResult): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.owner.completed(this, result);
  }
}
