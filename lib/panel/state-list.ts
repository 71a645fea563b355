/**
 * The administrator's list of states users pick from (FreePBX's Presence State module): entries of a type (one of
 * the presence states) and an optional message ("Lunch", "In a meeting"), in the order the administrator keeps.
 * Stored as one document, durable before a change is answered; a fresh store gets FreePBX's defaults.
 */
import { EventEmitter } from 'node:events';
import { ERRORS, PresencedError } from '../errors.js';
import { PRESENCE_STATES, type PresenceStateName } from '../presence/state.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';

export interface StateEntry {
  id: number;
  type: PresenceStateName;
  message: string;
}

export type StateEntryFields = Omit<StateEntry, 'id'>;

/** FreePBX's presencestate module installs one entry per type, without a message, in this order. */
export const DEFAULT_STATE_LIST: readonly StateEntryFields[] = (['available', 'chat', 'away', 'dnd', 'xa', 'unavailable'] as const)
  .map((type) => ({ type, message: '' }));

export const STATE_LIST_KEY = 'panel/states';

interface StoredList { nextId: number; entries: StateEntry[] }

export interface StateListEvents {
  change: [entries: readonly StateEntry[]];
}

export class StateList extends EventEmitter<StateListEvents> {
  private stored: StoredList = { nextId: 1, entries: [] };

  constructor(private readonly store: Store, private readonly log: Logger) {
    super();
  }

  /** The stored list; FreePBX's defaults in a fresh store. An unreadable stored list is kept as it is (and logged),
   *  the defaults serving until an administrator changes the list. */
  async load(): Promise<void> {
    const document = (await this.store.loadDocuments(STATE_LIST_KEY)).find((record) => record.key === STATE_LIST_KEY);
    const stored = document && parseStoredList(document.data);
    if (stored) {
      this.stored = stored;
      return;
    }
    const defaults = { nextId: DEFAULT_STATE_LIST.length + 1, entries: DEFAULT_STATE_LIST.map((entry, index) => ({ id: index + 1, ...entry })) };
    if (document) {
      this.log.warn(`panel: the stored state list is not readable; serving FreePBX's defaults until it is changed`);
      this.stored = defaults;
    } else await this.save(defaults);
  }

  get entries(): readonly StateEntry[] {
    return this.stored.entries;
  }

  get(id: number): StateEntry | undefined {
    return this.stored.entries.find((entry) => entry.id === id);
  }

  /** Appends an entry, or puts it before the entry `before`. */
  async add(fields: StateEntryFields, before?: number): Promise<StateEntry> {
    const entry = { id: this.stored.nextId, ...fields };
    const entries = [...this.stored.entries];
    const at = before === undefined ? entries.length : this.indexOf(before);
    entries.splice(at, 0, entry);
    await this.save({ nextId: entry.id + 1, entries });
    return entry;
  }

  async update(id: number, fields: StateEntryFields): Promise<StateEntry> {
    const at = this.indexOf(id);
    const entry = { id, ...fields };
    await this.save({ ...this.stored, entries: this.stored.entries.map((current, index) => (index === at ? entry : current)) });
    return entry;
  }

  async remove(id: number): Promise<void> {
    this.indexOf(id);
    await this.save({ ...this.stored, entries: this.stored.entries.filter((entry) => entry.id !== id) });
  }

  /** A new order: every id exactly once. */
  async reorder(ids: readonly number[]): Promise<void> {
    const sorted = [...ids].sort((a, b) => a - b).join();
    if (sorted !== this.stored.entries.map((entry) => entry.id).sort((a, b) => a - b).join()) {
      throw new PresencedError(ERRORS.INVALID_VALUE, 'body/order: must name every entry of the list exactly once');
    }
    await this.save({ ...this.stored, entries: ids.map((id) => this.get(id) as StateEntry) });
  }

  private indexOf(id: number): number {
    const at = this.stored.entries.findIndex((entry) => entry.id === id);
    if (at < 0) throw new PresencedError(ERRORS.NO_SUCH_STATE_ENTRY, String(id));
    return at;
  }

  /** Durable first, then in memory and announced: a failed write changes nothing. */
  private async save(next: StoredList): Promise<void> {
    await this.store.saveDocument({ key: STATE_LIST_KEY, data: JSON.stringify(next) });
    this.stored = next;
    this.emit('change', next.entries);
  }
}

function parseStoredList(data: string): StoredList | undefined {
  try {
    const value = JSON.parse(data) as StoredList;
    const valid = Number.isInteger(value.nextId) && Array.isArray(value.entries) && value.entries.every((entry) =>
      Number.isInteger(entry.id) && entry.id < value.nextId && PRESENCE_STATES.includes(entry.type) && typeof entry.message === 'string');
    return valid ? value : undefined;
  } catch {
    return undefined;
  }
}
