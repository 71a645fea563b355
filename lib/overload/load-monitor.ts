/**
 * Overload control (RFC 3261 §21.5.4, after RFC 7339's idea of a server that measures its own load): presenced has
 * one event loop, so its load shows in two ways. Before the loop falls behind it is busy nearly all the time
 * (event-loop utilisation): then a share of new SUBSCRIBEs and PUBLISHes is answered 503, raised while the smoothed
 * utilisation stays over `utilization` and lowered while it is under, so the loop settles just below it and serves
 * what it can at full speed instead of dropping datagrams and drowning in retransmissions. Once it has fallen
 * behind, the backlog shows as event-loop lag (how late a timer fires): a smoothed lag above `lagMs` refuses all new
 * work until it is under half. The SIP core asks before any handler runs, so refreshes, un-subscribes, NOTIFY
 * responses and retransmissions (absorbed by the transaction layer) keep the CPU.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from '../util/log.js';
import { ERRORS, sipAnswer } from '../errors.js';
import type { Refusal } from '../limits/refusals.js';

/** How often lag and utilisation are sampled. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed values: about the last quarter second counts. */
const SMOOTHING = 0.1;
/** How fast the refused share follows the utilisation, per sample: up quickly, down gently. */
const SHARE_UP = 0.05;
const SHARE_DOWN = 0.02;

export interface OverloadSettings {
  /** Smoothed event-loop lag that refuses all new work, ms; 0 turns overload control off. */
  lagMs: number;
  /** Smoothed event-loop utilisation (0–1) over which a growing share of new work is refused; 0: lag only. */
  utilization: number;
  /** Retry-After of the 503, s: each refusal asks for between this and twice this, so retries do not come back in step. */
  retryAfterS: number;
}

export const DEFAULT_OVERLOAD: OverloadSettings = { lagMs: 200, utilization: 0.85, retryAfterS: 10 };

export class LoadMonitor {
  private timer: NodeJS.Timeout | undefined;
  private expectedAt = 0;
  private lastUtilization: EventLoopUtilization | undefined;
  private smoothedLagMs = 0;
  private smoothedUtilization = 0;
  /** The share of new work refused now: 0 normally, 1 while the lag is over its threshold. */
  private refusedShare = 0;
  private lagging = false;
  private episodeStart: number | undefined;
  private peakLagMs = 0;
  private peakUtilization = 0;
  private shedCount = 0;

  constructor(private readonly settings: OverloadSettings, private readonly log: Logger) {}

  start(): void {
    if (this.settings.lagMs <= 0 || this.timer) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.lastUtilization = performance.eventLoopUtilization();
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

  private sample(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.expectedAt);
    this.expectedAt = now + SAMPLE_MS;
    const utilization = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(utilization, this.lastUtilization).utilization;
    this.lastUtilization = utilization;
    // Smoothed, so that one stall (a compaction, a busy neighbour on the CPU) does not refuse the requests behind it.
    this.smoothedLagMs += SMOOTHING * (lag - this.smoothedLagMs);
    this.smoothedUtilization += SMOOTHING * (busy - this.smoothedUtilization);
    // Hysteresis: lagging from over the threshold until under half of it.
    const lagging = this.lagging = this.smoothedLagMs > (this.lagging ? this.settings.lagMs / 2 : this.settings.lagMs);
    if (lagging) this.refusedShare = 1;
    else if (this.settings.utilization > 0 && this.smoothedUtilization > this.settings.utilization) this.refusedShare = Math.min(1, this.refusedShare + SHARE_UP);
    else this.refusedShare = Math.max(0, this.refusedShare - SHARE_DOWN);

    if (this.episodeStart === undefined) {
      if (this.refusedShare === 0) return;
      this.episodeStart = now;
      this.peakLagMs = this.smoothedLagMs;
      this.peakUtilization = this.smoothedUtilization;
      this.shedCount = 0;
      const why = lagging
        ? `event-loop lag ${Math.round(this.smoothedLagMs)} ms is over ${this.settings.lagMs} ms: answering new SUBSCRIBEs and PUBLISHes 503 until it is under ${this.settings.lagMs / 2} ms`
        : `the event loop is busy ${Math.round(this.smoothedUtilization * 100)} % of the time (over ${Math.round(this.settings.utilization * 100)} %): answering a share of new SUBSCRIBEs and PUBLISHes 503`;
      this.log.warn(`overload: ${why}`);
      return;
    }
    this.peakLagMs = Math.max(this.peakLagMs, this.smoothedLagMs);
    this.peakUtilization = Math.max(this.peakUtilization, this.smoothedUtilization);
    if (this.refusedShare > 0) return;
    const seconds = ((now - this.episodeStart) / 1000).toFixed(1);
    this.log.info(`overload: over after ${seconds} s (peak lag ${Math.round(this.peakLagMs)} ms, peak utilisation ${Math.round(this.peakUtilization * 100)} %): ${this.shedCount} new request(s) answered 503`);
    this.episodeStart = undefined;
  }
}
