/**
 * Overload control (RFC 3261 §21.5.4, after RFC 7339's idea of a server that measures its own load). presenced has
 * one event loop. The SIP core reads every message as it arrives and queues the requests (lib/sip/request-queue.ts),
 * so its backlog is known the moment a request comes in: how long it would wait behind the queued ones, plus what it
 * waited in the kernel before it was read (the UDP transport's probe). Once a backlog stands over `queueDelayMs`, an
 * episode begins, and in it each new SUBSCRIBE or PUBLISH that would wait longer is answered 503 at once: the backlog
 * stays that short and the server busy at full speed on the work it took. Refreshes, un-subscribes, NOTIFY responses
 * and retransmissions (absorbed by the transaction layer) are never turned away for it. Two backstops: an event loop
 * that has fallen behind all the same (a fan-out to thousands) or a kernel receive queue that stands (the reads
 * cannot keep up) refuses all new work until under half of `lagMs`; and a backlog of a whole second refuses every
 * request, so memory stays bounded whatever the flood.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../util/log.js';
import { ERRORS, sipAnswer } from '../errors.js';
import type { Refusal } from '../limits/refusals.js';

/** How often lag and the kernel's queue delay are sampled. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed lag: about the last quarter second counts. */
const SMOOTHING = 0.1;
/**
 * The kernel queue delay counted is the least over this many samples (CoDel's standing queue): a burst of arrivals
 * or a stall of the loop queues and drains by itself; only a queue that stays is overload.
 */
const STANDING_SAMPLES = 5;
/**
 * A backlog this long refuses every request, not only new work: a refresh answered 503 leaves its subscription as it
 * was (RFC 6665 §4.1.2.2), and the queue cannot grow without bound under a flood of in-dialog requests.
 */
const MAX_WAIT_MS = 1000;
/** Outside an episode, a wait over the target must last this long, ms, or be this many targets long, to start one. */
const STANDING_MS = 100;
const BURST_TARGETS = 5;
/** An episode ends after this long without a refusal. */
const QUIET_MS = 1000;

export interface OverloadSettings {
  /** Smoothed event-loop lag that refuses all new work, ms; 0 turns overload control off. */
  lagMs: number;
  /** How long a new request may wait behind the queued ones before it is refused, ms; 0: lag only. */
  queueDelayMs: number;
  /** Retry-After of the 503, s: each refusal asks for between this and twice this, so retries do not come back in step. */
  retryAfterS: number;
}

export const DEFAULT_OVERLOAD: OverloadSettings = { lagMs: 200, queueDelayMs: 20, retryAfterS: 10 };

export class LoadMonitor {
  private timer: NodeJS.Timeout | undefined;
  private expectedAt = 0;
  private smoothedLagMs = 0;
  private readonly queueDelays: number[] = [];
  /** The least kernel queue delay over the last STANDING_SAMPLES samples, ms. */
  private standingKernelMs = 0;
  /** All new work is refused while the loop lags (or the kernel's queue stands) over `lagMs`, until under half. */
  private lagging = false;
  private episodeStart: number | undefined;
  private lastRefusalAt = 0;
  /** Since when new requests would have waited over the target without a break. */
  private overTargetSince: number | undefined;
  private peakLagMs = 0;
  private peakWaitMs = 0;
  private shedCount = 0;

  /** `kernelDelayMs`: how long datagrams wait in the kernel's receive queue now (the longest over the UDP sockets), ms. */
  constructor(private readonly settings: OverloadSettings, private readonly log: Logger, private readonly kernelDelayMs: () => number = () => 0) {}

  start(): void {
    if (this.settings.lagMs <= 0 || this.timer) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether an episode is on: new work is being refused. */
  overloaded(): boolean {
    return this.episodeStart !== undefined;
  }

  /**
   * Whether to refuse a request that would wait `queuedMs` behind the queued ones (`newWork`: one that creates state).
   * Its wait in all adds what it waited in the kernel before it was read. A kernel delay counts towards the backstop
   * and the burst only while it stands: one stall of the whole process (no CPU for a moment) shows there, not in the
   * queue, and drains by itself.
   */
  shed(newWork: boolean, queuedMs: number): boolean {
    if (this.settings.lagMs <= 0) return false;
    const standing = queuedMs + this.standingKernelMs;
    if (standing > MAX_WAIT_MS) return this.refuse(standing);
    if (!newWork) return false;
    if (this.lagging) return this.refuse(undefined);
    const wait = queuedMs + this.kernelDelayMs();
    const target = this.waitTargetMs();
    if (wait <= target) {
      this.overTargetSince = undefined;
      return false;
    }
    const now = performance.now();
    this.overTargetSince ??= now;
    // Outside an episode, a backlog over the target that drains by itself within STANDING_MS (a burst, a garbage
    // collection) is let through unless it grows past BURST_TARGETS targets; within one, the target holds.
    if (this.episodeStart === undefined && standing <= BURST_TARGETS * target && now - this.overTargetSince < STANDING_MS) return false;
    return this.refuse(wait, now);
  }

  /** Notes a refusal (`waitMs`: the wait that caused it; none when the lag did), starting an episode if none is on. */
  private refuse(waitMs: number | undefined, now = performance.now()): true {
    this.lastRefusalAt = now;
    if (this.episodeStart === undefined) this.begin(now, waitMs);
    else if (waitMs !== undefined) this.peakWaitMs = Math.max(this.peakWaitMs, waitMs);
    return true;
  }

  /** The answer to a request refused while overloaded (counted for the end-of-episode line). */
  refusal(): Refusal {
    this.shedCount++;
    const retryAfter = this.settings.retryAfterS + Math.floor(Math.random() * (this.settings.retryAfterS + 1));
    return { ...sipAnswer(ERRORS.OVERLOADED), headers: [['Retry-After', String(retryAfter)]] };
  }

  /** Starts an episode, logged once: by the backlog (`waitMs`) or by the lag. */
  private begin(now: number, waitMs: number | undefined): void {
    this.episodeStart = now;
    this.lastRefusalAt = now;
    this.peakLagMs = this.smoothedLagMs;
    this.peakWaitMs = waitMs ?? 0;
    this.shedCount = 0;
    const { lagMs } = this.settings;
    if (waitMs === undefined) {
      const what = this.smoothedLagMs >= this.standingKernelMs
        ? `event-loop lag ${Math.round(this.smoothedLagMs)} ms`
        : `receive-queue delay ${Math.round(this.standingKernelMs)} ms`;
      this.log.warn(`overload: ${what} is over ${lagMs} ms: answering new SUBSCRIBEs and PUBLISHes 503 until it is under ${lagMs / 2} ms`);
    } else if (waitMs > MAX_WAIT_MS) {
      this.log.warn(`overload: requests would wait ${Math.round(waitMs)} ms to be handled (over ${MAX_WAIT_MS} ms): answering every request 503 while they would`);
    } else {
      this.log.warn(`overload: requests would wait ${Math.round(waitMs)} ms to be handled (over ${this.waitTargetMs()} ms): answering new SUBSCRIBEs and PUBLISHes 503 while they would`);
    }
  }

  /** The longest a new request may wait; without a queue-delay target, a backlog as long as the lag threshold is a lag. */
  private waitTargetMs(): number {
    return this.settings.queueDelayMs > 0 ? this.settings.queueDelayMs : this.settings.lagMs;
  }

  private sample(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.expectedAt);
    this.expectedAt = now + SAMPLE_MS;
    // Smoothed, so that one stall (a compaction, a busy neighbour on the CPU) does not refuse the requests behind it.
    this.smoothedLagMs += SMOOTHING * (lag - this.smoothedLagMs);
    this.queueDelays.push(this.kernelDelayMs());
    if (this.queueDelays.length > STANDING_SAMPLES) this.queueDelays.shift();
    this.standingKernelMs = Math.min(...this.queueDelays);
    // Hysteresis: lagging from over the threshold until under half of it.
    const backlog = Math.max(this.smoothedLagMs, this.standingKernelMs);
    this.lagging = backlog > (this.lagging ? this.settings.lagMs / 2 : this.settings.lagMs);
    if (this.episodeStart === undefined) {
      if (this.lagging) this.begin(now, undefined);
      return;
    }
    this.peakLagMs = Math.max(this.peakLagMs, this.smoothedLagMs);
    if (this.lagging || now - this.lastRefusalAt < QUIET_MS) return;
    const seconds = ((this.lastRefusalAt - this.episodeStart) / 1000).toFixed(1);
    this.log.info(`overload: over after ${seconds} s (peak lag ${Math.round(this.peakLagMs)} ms, peak wait ${Math.round(this.peakWaitMs)} ms): ${this.shedCount} request(s) answered 503`);
    this.episodeStart = undefined;
  }
}
