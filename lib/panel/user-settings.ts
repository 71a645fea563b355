/**
 * Each user's panel settings (UCP's presence settings): the list entry to apply on login, the one to apply on
 * logout or when the browser closes (null: do nothing), and for each state type the modes to switch when the user's
 * presence changes to it (Do Not Disturb, Find Me/Follow Me: on, off, or null to leave as they are). Stored one
 * document per user, durable before answered.
 */
import { ERRORS, PresencedError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import type { StateList } from './state-list.js';

/** The types a user picks actions for: those of the state list (FreePBX's six; `not_set` is nobody's choice). */
export const ACTION_TYPES = ['available', 'chat', 'away', 'dnd', 'xa', 'unavailable'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/** The modes an action switches; true turns one on, false off, null leaves it as it is. */
export const MODES = ['dnd', 'followMe'] as const;
export type Mode = (typeof MODES)[number];
export type TypeActions = Record<Mode, boolean | null>;
export type ActionSettings = Record<ActionType, TypeActions>;

export interface UserSettings {
  /** A state list entry's id, or null: do nothing. */
  onLogin: number | null;
  onLogout: number | null;
  actions: ActionSettings;
}

/** A change: `actions` absent keeps the user's actions; a type or mode left out of it does nothing. */
export type UserSettingsChange = Omit<UserSettings, 'actions'> & { actions?: Partial<Record<ActionType, Partial<TypeActions>>> };

/** FreePBX turns Do Not Disturb on for the DND type unless the user says otherwise; presenced also turns it off
 *  again for Available, so that a DND picked from the list does not outlast it. */
export const DEFAULT_ACTIONS: ActionSettings = completeActions({ available: { dnd: false }, dnd: { dnd: true } });

export const NO_SETTINGS: UserSettings = Object.freeze({ onLogin: null, onLogout: null, actions: DEFAULT_ACTIONS });

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
    return { onLogin: existing(settings.onLogin), onLogout: existing(settings.onLogout), actions: settings.actions };
  }

  async set(user: string, change: UserSettingsChange): Promise<UserSettings> {
    for (const field of ['onLogin', 'onLogout'] as const) {
      const id = change[field];
      if (id !== null && !this.list.get(id)) throw new PresencedError(ERRORS.INVALID_VALUE, `body/${field}: no state list entry ${id}`);
    }
    const actions = change.actions ? completeActions(change.actions) : this.get(user).actions;
    const copy = { onLogin: change.onLogin, onLogout: change.onLogout, actions };
    await this.store.saveDocument({ key: PREFIX + user, data: JSON.stringify(copy) });
    this.byUser.set(user, copy);
    return copy;
  }
}

function completeActions(partial: Partial<Record<ActionType, Partial<TypeActions>>>): ActionSettings {
  const actions = {} as ActionSettings;
  for (const type of ACTION_TYPES) actions[type] = { dnd: partial[type]?.dnd ?? null, followMe: partial[type]?.followMe ?? null };
  return actions;
}

function parseSettings(data: string): UserSettings | undefined {
  try {
    const value = JSON.parse(data) as UserSettings;
    const idOrNull = (id: unknown): boolean => id === null || Number.isInteger(id);
    if (!idOrNull(value.onLogin) || !idOrNull(value.onLogout)) return undefined;
    // Settings stored before actions existed keep the defaults.
    const actions = value.actions === undefined ? DEFAULT_ACTIONS : parseActions(value.actions);
    return actions && { onLogin: value.onLogin, onLogout: value.onLogout, actions };
  } catch {
    return undefined;
  }
}

function parseActions(value: unknown): ActionSettings | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stored = value as Record<string, Record<string, unknown> | undefined>;
  const onOffOrNull = (mode: unknown): boolean => mode === null || mode === undefined || typeof mode === 'boolean';
  const valid = ACTION_TYPES.every((type) => stored[type] === undefined || MODES.every((mode) => onOffOrNull(stored[type]?.[mode])));
  return valid ? completeActions(stored as Partial<Record<ActionType, Partial<TypeActions>>>) : undefined;
}
