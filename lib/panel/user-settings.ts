/**
 * Each user's panel settings (UCP's presence settings): the list entry to apply on login, the one to apply on
 * logout or when the browser closes (null: do nothing). Stored one document per user, durable before answered.
 */
import { ERRORS, PresencedError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import type { StateList } from './state-list.js';

export interface UserSettings {
  /** A state list entry's id, or null: do nothing. */
  onLogin: number | null;
  onLogout: number | null;
}

export const NO_SETTINGS: UserSettings = Object.freeze({ onLogin: null, onLogout: null });

const PREFIX = 'panel/settings/';

export class UserSettingsStore {
  private readonly byUser = new Map<string, UserSettings>();

  constructor(private readonly store: Store, private readonly list: StateList, private readonly log: Logger) {}

  async load(): Promise<void> {
    for (const { key, data } of await this.store.loadDocuments(PREFIX)) {
      const settings = parseSettings(data);
      if (settings) this.byUser.set(key.slice(PREFIX.length), settings);
      else this.log.warn(`panel: the stored settings of '${key.slice(PREFIX.length)}' are not readable; using none`);
    }
  }

  /** A user's settings; an entry the administrator has since removed reads as "do nothing". */
  get(user: string): UserSettings {
    const settings = this.byUser.get(user) ?? NO_SETTINGS;
    const existing = (id: number | null): number | null => (id !== null && this.list.get(id) ? id : null);
    return { onLogin: existing(settings.onLogin), onLogout: existing(settings.onLogout) };
  }

  async set(user: string, settings: UserSettings): Promise<UserSettings> {
    for (const field of ['onLogin', 'onLogout'] as const) {
      const id = settings[field];
      if (id !== null && !this.list.get(id)) throw new PresencedError(ERRORS.INVALID_VALUE, `body/${field}: no state list entry ${id}`);
    }
    const copy = { onLogin: settings.onLogin, onLogout: settings.onLogout };
    await this.store.saveDocument({ key: PREFIX + user, data: JSON.stringify(copy) });
    this.byUser.set(user, copy);
    return copy;
  }
}

function parseSettings(data: string): UserSettings | undefined {
  try {
    const value = JSON.parse(data) as UserSettings;
    const idOrNull = (id: unknown): boolean => id === null || Number.isInteger(id);
    return idOrNull(value.onLogin) && idOrNull(value.onLogout) ? { onLogin: value.onLogin, onLogout: value.onLogout } : undefined;
  } catch {
    return undefined;
  }
}
