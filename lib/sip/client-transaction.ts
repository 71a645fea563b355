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

type Send = (flow: Flow, text: string, fallback?: Target) => boolean;

/**
 * A non-INVITE client transaction (RFC 3261 §17.1.2). Over UDP the request is retransmitted on Timer E, starting at T1
 * and doubling up to T2 (staying at T2 once a provisional response arrived); Timer F (64·T1) ends it as a timeout.
 * Over TCP there are no retransmissions, only Timer F. Timer K is not kept: a late retransmitted response simply
 * matches no transaction and is dropped.
 */
export class NonInviteClientTransaction {
  private retransmitTimer: NodeJS.Timeout | undefined;
  private readonly timeoutTimer: NodeJS.Timeout;
  private interval: number;
  private proceeding = false;
  done = false;

  constructor(
    readonly request: OutgoingRequest,
    private readonly timers: TimerSettings,
    private readonly send: Send,
    private readonly finish: (transaction: NonInviteClientTransaction, result: TransactionResult) => void,
  ) {
    this.interval = timers.t1;
    this.timeoutTimer = setTimeout(() => this.end({ status: 408 }), 64 * timers.t1);
    if (!send(request.flow, request.text, request.fallback)) {
      // §8.1.3.1: a transport failure is treated as a 503.
      queueMicrotask(() => this.end({ status: 503 }));
      return;
    }
    if (request.flow.protocol === 'UDP') this.armRetransmit();
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
    this.clearTimers();
  }

  private armRetransmit(): void {
    this.retransmitTimer = setTimeout(() => {
      if (this.done) return;
      this.send(this.request.flow, this.request.text, this.request.fallback);
      this.interval = this.proceeding ? this.timers.t2 : Math.min(2 * this.interval, this.timers.t2);
      this.armRetransmit();
    }, this.interval);
  }

  private end(result: TransactionResult): void {
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    this.finish(this, result);
  }

  private clearTimers(): void {
    clearTimeout(this.timeoutTimer);
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
  }
}
