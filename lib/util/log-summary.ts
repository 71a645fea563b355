/**
 * Repeated events are logged once, then summarised per interval: the first of a kind is written in full, later ones
 * within the interval are only counted, and at its end one line says how many there were ("1,532 more NOTIFY
 * timeouts in the last 10 s"). A kind that stays quiet for a whole interval is written in full again next time, so an
 * episode (a flood, a limit being hit) costs two lines per interval however large it is.
 */
import type { Logger } from './log.js';

type Level = 'error' | 'warn' | 'info';

interface Episode { level: Level; what: string; more: number }

export class LogSummary {
  private readonly episodes = new Map<string, Episode>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger, private readonly intervalMs = 10_000) {}

  /**
   * One event of kind `what` (a plural noun phrase: "NOTIFY timeouts"); `message` describes this one and is only
   * built when it is written.
   */
  note(level: Level, what: string, message: () => string): void {
    const episode = this.episodes.get(what);
    if (episode) {
      episode.more++;
      return;
    }
    this.episodes.set(what, { level, what, more: 0 });
    this.log[level](message());
    this.timer ??= setInterval(() => this.summarise(), this.intervalMs).unref();
  }

  /** Writes what is counted and stops (shutdown). */
  stop(): void {
    this.summarise();
    this.episodes.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private summarise(): void {
    for (const [what, episode] of this.episodes) {
      if (episode.more === 0) {
        this.episodes.delete(what);
        continue;
      }
      this.log[episode.level](`${episode.more.toLocaleString('en-US')} more ${what} in the last ${this.intervalMs / 1000} s`);
      episode.more = 0;
    }
    if (this.episodes.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
