/**
 * The dialplan presenced serves: read at start, read again on reload. Whoever resolves a hint asks `current`;
 * whoever must act when hints change (subscriptions re-resolving, AMI) listens to 'reload'.
 */
import { EventEmitter } from 'node:events';
import { Dialplan } from './hints.js';
import type { Logger } from '../util/log.js';

export interface HintDirectoryEvents {
  /** A new dialplan replaced `previous`. */
  reload: [dialplan: Dialplan, previous: Dialplan];
}

export type ReloadResult = { ok: true; hints: number; file: string } | { ok: false; error: string; file: string };

export class HintDirectory extends EventEmitter<HintDirectoryEvents> {
  private dialplan: Dialplan;

  /**
   * Reads `file` now: a dialplan that cannot be read, is not text, or has no hints (unless `allowEmpty`) stops the
   * start (the error says which file and why).
   */
  constructor(private readonly options: { file: string; context: string; allowEmpty?: boolean; log: Logger }) {
    super();
    this.dialplan = this.load();
  }

  get current(): Dialplan {
    return this.dialplan;
  }

  get file(): string {
    return this.options.file;
  }

  /**
   * Reads the file again; one that cannot be read, is not text, or has no hints (unless `allowEmpty`) keeps the
   * current dialplan: a file caught half-written or overwritten by mistake must not end every subscription.
   */
  reload(): ReloadResult {
    const { file, log } = this.options;
    let next: Dialplan;
    try {
      next = this.load();
    } catch (error) {
      log.error(`reload: ${(error as Error).message}; keeping the previous dialplan (${this.dialplan.hints.length} hints)`);
      return { ok: false, error: (error as Error).message, file };
    }
    const previous = this.dialplan;
    this.dialplan = next;
    this.emit('reload', next, previous);
    log.info(`reload: ${next.hints.length} hints from ${file}`);
    return { ok: true, hints: next.hints.length, file };
  }

  private load(): Dialplan {
    const { file, context, log } = this.options;
    const dialplan = Dialplan.load(file);
    for (const d of dialplan.diagnostics) log.warn(`${d.file}:${d.line}: ${d.message}`);
    if (dialplan.hints.length === 0 && !this.options.allowEmpty) {
      throw new Error(`${file} has no hints (start with --allow-empty-dialplan yes if that is intended)`);
    }
    if (!dialplan.hasContext(context)) log.warn(`context '${context}' is not in ${file}: every SUBSCRIBE will get 404`);
    return dialplan;
  }
}
