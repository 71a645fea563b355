/**
 * Overload control (RFC 3261 §21.5.4, after RFC 7339's idea of a server that measures its own load). presenced has
 * one event loop, and over UDP its backlog first builds where that loop cannot see it: in the kernel's receive
 * queue, megabytes long, where every caller waits and then retransmits. So the main measure is that queue's delay
 * (the UDP transport's probe): while it is over `queueDelayMs`, the share of new SUBSCRIBEs and PUBLISHes answered
 * 503 rises, and while it is under, the share falls, so the queue stays short and the server busy at full speed
 * on the work it accepted. Once the loop itself has fallen behind (a stream transport's flood, a stall), the
 * backlog shows as event-loop lag (how late a timer fires): a smoothed lag above `lagMs`, or a queue that stands
 * that long, refuses all new work until it is under half. The SIP core asks before any handler runs, so refreshes,
 * un-subscribes, NOTIFY responses and retransmissions (absorbed by the transaction layer) keep the CPU.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../util/log.js';
import { ERRORS, sipAnswer } from '../errors.js';
import type { Refusal } from '../limits/refusals.js';

/** How often lag and queue delay are sampled. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed values: about the last quarter second counts. */
const SMOOTHING = 0.1;
/**
 * The queue delay counted is the least over this many samples (CoDel's standing queue): a burst of arrivals or a
 * stall of the loop (a compaction, a busy neighbour on the CPU) queues and drains by itself; only a queue that stays
 * is overload.
 */
const STANDING_SAMPLES = 5;
/**
 * The refused share follows the queue delay over its target as a proportional-integral controller: the proportional
 * part answers a burst at once, the integral part finds the share that holds the queue at the target. The integral
 * is slow on purpose: work accepted now comes back later (its NOTIFY's answer, its un-SUBSCRIBE), so a fast one
 * would swing between refusing too much and too little.
 */
const SHARE_PER_MS = 0.02;
const SHARE_PER_MS_SECOND = 0.002;
/** Under the target the integral unwinds this much faster, so that shedding stops within seconds of the overload. */
const UNWIND = 20;

export interface OverloadSettings {
  /** Smoothed event-loop lag that refuses all new work, ms; 0 turns overload control off. */
  lagMs: number;
  /** Receive-queue delay over which a growing share of new work is refused, ms; 0: lag only. */
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
  /** The share of new work refused now: 0 normally, 1 while the backlog is over `lagMs`. */
  private refusedShare = 0;
  /** The integral part of the refused share. */
  private steadyShare = 0;
  private lagging = false;
  private episodeStart: number | undefined;
  private peakLagMs = 0;
  private peakQueueDelayMs = 0;
  private shedCount = 0;

  /** `queueDelayMs`: the receive-queue delay now (the longest over the UDP sockets), ms. */
  constructor(private readonly settings: OverloadSettings, private readonly log: Logger, private readonly queueDelayMs: () => number = () => 0) {}

  start(): void {
    if (this.settings.lagMs <= 0 || this.timer) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether an episode is on: some new work is being refused. */
  overloaded(): boolean {
    return this.episodeStart !== undefined;
  }

  /** Whether to refuse this new request: always while the loop lags, else with the current share. */
  shed(): boolean {
    return this.refusedShare > 0 && (this.refusedShare >= 1 || Math.random() < this.refusedShare);
  }

  /** The answer to a request refused while overloaded (counted for the end-of-episode line). */
  refusal(): Refusal {
    this.shedCount++;
    const retryAfter = this.settings.retryAfterS + Math.floor(Math.random() * (this.settings.retryAfterS + 1));
    return { ...sipAnswer(ERRORS.OVERLOADED), headers: [['Retry-After', String(retryAfter)]] };
  }

  /** The standing queue delay, with the latest reading. */
  private standingQueueDelay(latest: number): number {
    this.queueDelays.push(latest);
    if (this.queueDelays.length > STANDING_SAMPLES) this.queueDelays.shift();
    return Math.min(...this.queueDelays);
  }

  private sample(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.expectedAt);
    this.expectedAt = now + SAMPLE_MS;
    // Smoothed, so that one stall (a compaction, a busy neighbour on the CPU) does not refuse the requests behind it.
    this.smoothedLagMs += SMOOTHING * (lag - this.smoothedLagMs);
    const target = this.settings.queueDelayMs;
    const queueDelay = target > 0 ? this.standingQueueDelay(this.queueDelayMs()) : 0;
    // Hysteresis: lagging from over the threshold until under half of it. A standing queue that long is as bad.
    const backlog = Math.max(this.smoothedLagMs, queueDelay);
    const lagging = this.lagging = backlog > (this.lagging ? this.settings.lagMs / 2 : this.settings.lagMs);
    if (lagging) this.refusedShare = 1;
    else if (target > 0) {
      const overMs = queueDelay - target;
      this.steadyShare = clampShare(this.steadyShare + SHARE_PER_MS_SECOND * overMs * (overMs < 0 ? UNWIND : 1) * SAMPLE_MS / 1000);
      this.refusedShare = clampShare(this.steadyShare + SHARE_PER_MS * overMs);
    } else this.refusedShare = 0;

    if (this.episodeStart === undefined) {
      if (this.refusedShare === 0) return;
      this.episodeStart = now;
      this.peakLagMs = this.smoothedLagMs;
      this.peakQueueDelayMs = queueDelay;
      this.shedCount = 0;
      const why = lagging
        ? `${this.smoothedLagMs >= queueDelay ? 'event-loop lag' : 'receive-queue delay'} ${Math.round(backlog)} ms is over ${this.settings.lagMs} ms: answering new SUBSCRIBEs and PUBLISHes 503 until it is under ${this.settings.lagMs / 2} ms`
        : `requests wait ${Math.round(queueDelay)} ms in the receive queue (over ${this.settings.queueDelayMs} ms): answering a share of new SUBSCRIBEs and PUBLISHes 503`;
      this.log.warn(`overload: ${why}`);
      return;
    }
    this.peakLagMs = Math.max(this.peakLagMs, this.smoothedLagMs);
    this.peakQueueDelayMs = Math.max(this.peakQueueDelayMs, queueDelay);
    if (this.refusedShare > 0) return;
    const seconds = ((now - this.episodeStart) / 1000).toFixed(1);
    this.log.info(`overload: over after ${seconds} s (peak lag ${Math.round(this.peakLagMs)} ms, peak queue delay ${Math.round(this.peakQueueDelayMs)} ms): ${this.shedCount} new request(s) answered 503`);
    this.episodeStart = undefined;
  }
}

function clampShare(share: number): number {
  return Math.min(1, Math.max(0, share));
}
