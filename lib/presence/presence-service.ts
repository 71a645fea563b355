import { EventEmitter } from 'node:events';
import { NOT_SET, type PresenceState, type PresenceValue } from './state.js';
import type { PresenceRecord, Store } from '../store/store.js';

export const CUSTOM_PRESENCE = 'CustomPresence:';

export interface PresenceServiceEvents {
  /** provider: 'CustomPresence:<name>'; fired after the new state is durable. */
  change: [provider: string, state: PresenceState, record: PresenceRecord];
}

/**
 * The CustomPresence provider: the current states in memory (read on every NOTIFY), written through to the store
 * before anyone is told. Each state is an immutable object, replaced on change, so bodies can be cached by identity.
 */
export class PresenceService extends EventEmitter<PresenceServiceEvents> {
  private readonly records = new Map<string, PresenceRecord>();
  private readonly states = new Map<string, PresenceState>();

  constructor(private readonly store: Store) {
    super();
  }

  async load(): Promise<void> {
    for (const record of await this.store.loadPresence()) this.remember(record);
  }

  /** The state a hint's presence part points at; providers other than CustomPresence have no source: not_set. */
  stateOf(provider: string | undefined): PresenceState {
    if (!provider || !provider.startsWith(CUSTOM_PRESENCE)) return NOT_SET;
    return this.states.get(provider.slice(CUSTOM_PRESENCE.length)) ?? NOT_SET;
  }

  list(): PresenceRecord[] {
    return [...this.records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Stores the new state durably, then notifies listeners. */
  async set(name: string, value: PresenceValue): Promise<PresenceRecord> {
    const record: PresenceRecord = {
      name,
      state: value.state.state,
      subtype: value.state.subtype,
      message: value.state.message,
      base64: value.base64,
      updatedAt: Date.now(),
    };
    await this.store.savePresence(record);
    const state = this.remember(record);
    this.emit('change', CUSTOM_PRESENCE + name, state, record);
    return record;
  }

  private remember(record: PresenceRecord): PresenceState {
    const state: PresenceState = Object.freeze({ state: record.state, subtype: record.subtype, message: record.message });
    this.records.set(record.name, record);
    this.states.set(record.name, state);
    return state;
  }
}
