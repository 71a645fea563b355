/**
 * Overload control (RFC 3261 §21.5.4, after RFC 7339's idea of a server that measures its own backlog): presenced
 * has one event loop, so its backlog shows as event-loop lag — how late a timer fires because work queued ahead of
 * it. A smoothed lag above `lagMs` starts an episode; under half of it for a sample ends it. During an episode the
 * SIP core answers new SUBSCRIBEs and PUBLISHes 503 with Retry-After before any handler runs, so refreshes,
 * un-subscribes, NOTIFY responses and retransmissions (absorbed by the transaction layer) get the CPU.
 */
import type { Logger } from '../util/log.js';
import { ERRORS, sipAnswer } from '../errors.js';
import type { Refusal } from '../limits/refusals.js';

/** How often the lag is sampled. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed lag: about the last quarter second counts. */
const SMOOTHING = 0.1;

export interface OverloadSettings {
  /** Smoothed event-loop lag that starts shedding, ms; 0 turns overload control off. */
  lagMs: number;
  /** Retry-After of the 503, s: each refusal asks for between this and twice this, so retries do not come back in step. */
  retryAfterS: number;
}

export const DEFAULT_OVERLOAD: OverloadSettings = { lagMs: 200, retryAfterS: 10 };

export class LoadMonitor {
  private timer: NodeJS.Timeout | undefined;
  private expectedAt = 0;
  private smoothedLagMs = 0;
  private episodeStart: number | undefined;
  private peakLagMs = 0;
  private shedCount = 0;

  constructor(private readonly settings: OverloadSettings, private readonly log: Logger) {}

  start(): void {
    if (this.settings.lagMs <= 0 || this.timer) return;
    this.expectedAt = performance.now() + SAMPLE_MS;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether new work is being refused now. */
  overloaded(): boolean {
    return this.episodeStart !== undefined;
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
    // Smoothed, so that one stall (a compaction, a busy neighbour on the CPU) does not refuse the requests behind it.
    this.smoothedLagMs += SMOOTHING * (lag - this.smoothedLagMs);
    const level = this.smoothedLagMs;
    if (this.episodeStart === undefined) {
      if (level <= this.settings.lagMs) return;
      this.episodeStart = now;
      this.peakLagMs = level;
      this.shedCount = 0;
      this.log.warn(`overload: event-loop lag ${Math.round(level)} ms is over ${this.settings.lagMs} ms: answering new SUBSCRIBEs and PUBLISHes 503 until it is under ${this.settings.lagMs / 2} ms`);
      return;
    }
    this.peakLagMs = Math.max(this.peakLagMs, level);
    if (level >= this.settings.lagMs / 2) return;
    const seconds = ((now - this.episodeStart) / 1000).toFixed(1);
    this.log.info(`overload: over after ${seconds} s (peak lag ${Math.round(this.peakLagMs)} ms): ${this.shedCount} new request(s) answered 503`);
    this.episodeStart = undefined;
  }
}
