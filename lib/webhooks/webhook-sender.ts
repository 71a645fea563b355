/**
 * Webhooks: each state change is POSTed as JSON to every configured URL, so a PBX or an integration can act on it.
 * Sending never holds up what made the change (a NOTIFY, an API answer): `send` only queues. Each URL has its own
 * queue, delivered in order, one request at a time; a request that fails (no connection, a timeout, 408, 429, 5xx)
 * is tried again after a growing delay, and the events behind it wait. A 4xx other than those is the receiver saying
 * no: that event is dropped. A queue is bounded: past the bound the oldest waiting event is dropped. Failures and
 * drops are logged once and then counted per interval, never one line each.
 */
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';

export interface WebhookSettings {
  /** http:// or https:// URLs. */
  urls: string[];
  /** A request not answered within this is abandoned (and tried again). */
  timeoutMs: number;
  /** The delays before each new try; after the last, the event is dropped. */
  retryDelaysMs: readonly number[];
  /** Events waiting per URL at most. */
  maxQueued: number;
}

export const DEFAULT_WEBHOOKS: Omit<WebhookSettings, 'urls'> = { timeoutMs: 5000, retryDelaysMs: [1000, 2000, 4000, 8000, 16000], maxQueued: 1000 };

/** What a receiver gets: the change, with an id that stays the same across retries (to notice a repeat). */
export type WebhookEvent = { event: 'presence'; name: string; state: string; subtype: string; message: string; source: string }
  | { event: 'device'; device: string; state: string };

/** One URL's queue and its delivery. */
class Target {
  private readonly queue: string[] = [];
  private sending = false;
  private stopped = false;
  /** The request in flight, or the wait before the next try: what `stop` cuts short. */
  private inFlight: AbortController | undefined;
  private wake: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(readonly url: string, private readonly settings: WebhookSettings, private readonly headers: Record<string, string>,
    private readonly summary: LogSummary) {}

  push(body: string): void {
    // The head of the queue may be in flight (or waiting to be tried again): it is not counted, nor dropped.
    const head = this.sending ? 1 : 0;
    if (this.queue.length - head >= this.settings.maxQueued) {
      this.queue.splice(head, 1);
      this.summary.note('warn', `webhook events dropped for ${this.url}`, () => `webhook: ${this.url}: ${this.settings.maxQueued} events waiting; dropping the oldest`);
    }
    this.queue.push(body);
    if (!this.sending) void this.drain();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.inFlight?.abort();
    this.wake?.();
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        await this.deliver(this.queue[0]);
        this.queue.shift();
      }
    } finally {
      this.sending = false;
    }
  }

  /** One event, tried until it is taken, refused, or the tries run out. */
  private async deliver(body: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const failure = await this.post(body);
      if (failure === undefined || this.stopped) return;
      const delay = failure.final ? undefined : this.settings.retryDelaysMs[attempt];
      if (delay === undefined) {
        this.summary.note('error', `webhook events not delivered to ${this.url}`, () => `webhook: ${this.url}: ${failure.why}; event dropped after ${attempt + 1} tr${attempt === 0 ? 'y' : 'ies'}`);
        return;
      }
      this.summary.note('warn', `webhook failures for ${this.url}`, () => `webhook: ${this.url}: ${failure.why}; trying again in ${delay / 1000} s`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.retry = setTimeout(resolve, delay);
      });
      this.wake = undefined;
    }
  }

  /** undefined when the receiver took it; else why not, and whether trying again is pointless. */
  private async post(body: string): Promise<{ why: string; final: boolean } | undefined> {
    const request = new AbortController();
    this.inFlight = request;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, this.settings.timeoutMs);
    try {
      const response = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: request.signal, redirect: 'manual' });
      await response.body?.cancel();
      if (response.ok) return undefined;
      const transient = response.status === 408 || response.status === 429 || response.status >= 500;
      return { why: `answered ${response.status}`, final: !transient };
    } catch (error) {
      if (timedOut) return { why: `no answer within ${this.settings.timeoutMs / 1000} s`, final: false };
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { why: cause?.code ?? cause?.message ?? (error as Error).message, final: false };
    } finally {
      clearTimeout(timer);
      this.inFlight = undefined;
    }
  }
}

export class WebhookSender {
  private readonly targets: Target[];
  private readonly summary: LogSummary;
  /** Ids: this run's start and a counter, so a receiver can tell a retried event from a new one. */
  private readonly epoch = Date.now().toString(36);
  private seq = 0;

  constructor(settings: WebhookSettings, log: Logger, userAgent: string) {
    this.summary = new LogSummary(log);
    const headers = { 'content-type': 'application/json', 'user-agent': userAgent };
    this.targets = settings.urls.map((url) => new Target(url, settings, headers, this.summary));
  }

  /** Queues the change for every URL; returns at once. */
  send(event: WebhookEvent): void {
    const body = JSON.stringify({ id: `${this.epoch}-${++this.seq}`, time: new Date().toISOString(), ...event });
    for (const target of this.targets) target.push(body);
  }

  /** Shutting down: what is waiting or in flight is abandoned. */
  stop(): void {
    for (const target of this.targets) target.stop();
    this.summary.stop();
  }
}

/** `--webhook`: comma-separated http(s) URLs. */
export function parseWebhookUrls(text: string): string[] {
  const urls = text.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (urls.length === 0) throw new Error('expected one or more http:// or https:// URLs, separated by commas');
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`'${url}' is not a URL (expected http://HOST[:PORT]/PATH)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`'${url}' is not an http:// or https:// URL`);
  }
  return urls;
}
