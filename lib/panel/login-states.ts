/**
 * UCP's "on login set status to" and "on browser close or logout set status to": the page's login applies the
 * user's on-login entry; an explicit logout applies the on-logout entry, and so does the closing of the user's last
 * event stream when no stream comes back within the grace period (a closed tab, a browser that went away; a reload
 * reconnects well within it).
 */
import type { Logger } from '../util/log.js';
import type { StateEntry, StateList } from './state-list.js';
import type { UserSettingsStore } from './user-settings.js';

export interface LoginStatesOptions {
  list: StateList;
  settings: UserSettingsStore;
  /** Sets the user's own presence to a list entry; `source` says why ('login', 'logout', 'closed'). */
  apply: (user: string, entry: StateEntry, source: string) => Promise<void>;
  graceMs: number;
  log: Logger;
}

export class LoginStates {
  private readonly streams = new Map<string, number>();
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: LoginStatesOptions) {}

  async loggedIn(user: string): Promise<void> {
    await this.applySetting(user, 'onLogin', 'login');
  }

  async loggedOut(user: string): Promise<void> {
    this.cancel(user);
    await this.applySetting(user, 'onLogout', 'logout');
  }

  streamOpened(user: string): void {
    this.cancel(user);
    this.streams.set(user, (this.streams.get(user) ?? 0) + 1);
  }

  streamClosed(user: string): void {
    const left = (this.streams.get(user) ?? 1) - 1;
    if (left > 0) this.streams.set(user, left);
    else {
      this.streams.delete(user);
      this.leaving(user);
    }
  }

  /** The page says it is going away (its `pagehide` beacon): unless a stream of the user is open when the grace
   *  period ends (a reload, another tab), the on-logout state is applied. */
  leaving(user: string): void {
    if (this.pending.has(user)) return;
    const timer = setTimeout(() => {
      this.pending.delete(user);
      if (this.streams.has(user)) return;
      this.applySetting(user, 'onLogout', 'closed').catch((error: Error) => this.options.log.error(`panel: on-logout state of '${user}': ${error.message}`));
    }, this.options.graceMs);
    timer.unref();
    this.pending.set(user, timer);
  }

  stop(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private cancel(user: string): void {
    clearTimeout(this.pending.get(user));
    this.pending.delete(user);
  }

  private async applySetting(user: string, field: 'onLogin' | 'onLogout', source: string): Promise<void> {
    const id = this.options.settings.get(user)[field];
    const entry = id === null ? undefined : this.options.list.get(id);
    if (entry) await this.options.apply(user, entry, source);
  }
}
