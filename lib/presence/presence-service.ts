import { EventEmitter } from 'node:events';
import { isStateName, NOT_SET, sameState, type PresenceState, type PresenceValue } from './state.js';
import { Publications, type Publication, type PublicationCaps } from './publications.js';
import type { PresenceRecord, Store } from '../store/store.js';
import type { Logger } from '../util/log.js';

export const CUSTOM_PRESENCE = 'CustomPresence:';

export interface PresenceServiceEvents {
  /**
   * provider: 'CustomPresence:<name>'; fired after the change is durable, with the new effective state. record is
   * the CLI/AMI setting when that is what counts, else the effective state as a record (base64 false, updatedAt
   * when it last changed).
   */
  change: [provider: string, state: PresenceState, record: PresenceRecord];
}

/** The source that counts for a name: the CLI/AMI setting or a live publication. */
type Source = { setting: PresenceRecord } | { publication: Publication };

/**
 * The CustomPresence provider. A name's effective state combines its CLI/AMI setting and its live PUBLISHed states:
 * the source changed last wins (ties go to the setting); when a publication expires or is removed, the next
 * most recent source counts again (docs/PUBLISH.md). Effective states are kept in memory (read on every NOTIFY),
 * written through to the store before anyone is told, and each is an immutable object replaced on change, so
 * bodies can be cached by identity.
 */
export class PresenceService extends EventEmitter<PresenceServiceEvents> {
  /** The CLI/AMI settings, as `presencestate list` shows them. */
  private readonly records = new Map<string, PresenceRecord>();
  /** Effective states; a name without any source is absent (not_set). */
  private readonly states = new Map<string, PresenceState>();
  readonly publications: Publications;
  private lastStamp = 0;

  constructor(private readonly store: Store, private readonly log: Logger, caps?: PublicationCaps) {
    super();
    this.publications = new Publications(store, (name) => this.update(name, false), () => this.stamp(), log, caps);
  }

  async load(): Promise<void> {
    let unreadable = 0;
    for (const record of await this.store.loadPresence()) {
      if (!isPresenceRecord(record)) {
        unreadable++;
        continue;
      }
      this.records.set(record.name, record);
      this.lastStamp = Math.max(this.lastStamp, record.updatedAt);
    }
    if (unreadable > 0) this.log.warn(`store: skipped ${unreadable} unreadable presence record(s)`);
    await this.publications.load();
    for (const name of this.publications.names()) {
      for (const publication of this.publications.live(name)) this.lastStamp = Math.max(this.lastStamp, publication.changedAt);
    }
    for (const name of new Set([...this.records.keys(), ...this.publications.names()])) {
      const source = this.winner(name);
      if (source) this.states.set(name, stateOf(source));
    }
  }

  /** Stops expiring publications. */
  stop(): void {
    this.publications.stop();
  }

  /** The effective state a hint's presence part points at; providers other than CustomPresence have no source:
   *  not_set. */
  stateOf(provider: string | undefined): PresenceState {
    if (!provider || !provider.startsWith(CUSTOM_PRESENCE)) return NOT_SET;
    return this.states.get(provider.slice(CUSTOM_PRESENCE.length)) ?? NOT_SET;
  }

  /** The CLI/AMI settings (not the effective states: publications are not listed). */
  list(): PresenceRecord[] {
    return [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Stores the new setting durably; it becomes the effective state (it is the latest change), and listeners are
   *  notified even when the state is the same. */
  async set(name: string, value: PresenceValue): Promise<PresenceRecord> {
    const record: PresenceRecord = {
      name,
      state: value.state.state,
      subtype: value.state.subtype,
      message: value.state.message,
      base64: value.base64,
      updatedAt: this.stamp(),
    };
    await this.store.savePresence(record);
    this.records.set(name, record);
    this.update(name, true);
    return record;
  }

  /** Strictly increasing ms timestamps, so "changed last" never ties within a run. */
  private stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  /** The precedence rule: the source with the latest change; the setting wins a tie. */
  private winner(name: string): Source | undefined {
    const setting = this.records.get(name);
    let source: Source | undefined = setting && { setting };
    let changedAt = setting?.updatedAt ?? -Infinity;
    for (const publication of this.publications.live(name)) {
      if (publication.changedAt > changedAt) {
        source = { publication };
        changedAt = publication.changedAt;
      }
    }
    return source;
  }

  /** Recomputes a name's effective state and tells listeners when it changed (or always, for a CLI/AMI set). */
  private update(name: string, always: boolean): void {
    const source = this.winner(name);
    const next = source ? stateOf(source) : NOT_SET;
    const current = this.states.get(name) ?? NOT_SET;
    if (!always && sameState(current, next)) return;
    if (source) this.states.set(name, next);
    else this.states.delete(name);
    this.emit('change', CUSTOM_PRESENCE + name, next, recordOf(name, source, next));
  }
}

function stateOf(source: Source): PresenceState {
  if ('publication' in source) return source.publication.state;
  const { state, subtype, message } = source.setting;
  return Object.freeze({ state, subtype, message });
}

function recordOf(name: string, source: Source | undefined, state: PresenceState): PresenceRecord {
  if (source && 'setting' in source) return source.setting;
  const updatedAt = source ? source.publication.changedAt : Date.now();
  return { name, ...state, base64: false, updatedAt };
}

/** A stored row that really is a presence record (a broken file must not stop the start, nor put junk in a NOTIFY). */
function isPresenceRecord(record: PresenceRecord): boolean {
  return typeof record.name === 'string' && isStateName(record.state) && typeof record.subtype === 'string' &&
    typeof record.message === 'string' && Number.isSafeInteger(record.updatedAt);
}
