/**
 * UCP's "when Away do the following": when a user's presence changes to a type, the modes their settings name for
 * it are switched — Do Not Disturb is the device `Custom:DND<user>`, Find Me/Follow Me `Custom:FOLLOWME<user>`
 * (INUSE when on, NOT_INUSE when off), the devices FreePBX puts on BLF keys. Any change counts (the page, the API,
 * the CLI, AMI, a phone's PUBLISH), except one another node already acted on. Switching happens after the presence
 * change is answered and never holds it up; one user's switches are made in the order of their changes.
 */
import type { PresenceStateName } from '../presence/state.js';
import type { Logger } from '../util/log.js';
import { LogSummary } from '../util/log-summary.js';
import { ACTION_TYPES, MODES, type ActionType, type Mode, type UserSettingsStore } from './user-settings.js';

/** The `Custom:` device of each mode, before the user's name (FreePBX's names). */
export const MODE_DEVICES: Readonly<Record<Mode, string>> = { dnd: 'Custom:DND', followMe: 'Custom:FOLLOWME' };

export interface StateActionsOptions {
  settings: UserSettingsStore;
  /** Whether a CustomPresence name is a panel user (an endpoint of --pjsip): only users have settings. */
  isUser: (name: string) => boolean;
  /** Sets a `Custom:` device state, durably (DeviceService through the commands). */
  setDevice: (device: string, state: 'INUSE' | 'NOT_INUSE') => Promise<unknown>;
  log: Logger;
}

export class StateActions {
  /** Each user's switches still being made, so the next change's wait for them. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly summary: LogSummary;

  constructor(private readonly options: StateActionsOptions) {
    this.summary = new LogSummary(options.log);
  }

  /** A CustomPresence name changed to `type` because of `source` ('cluster': another node did it and acts on it). */
  presenceChanged(name: string, type: PresenceStateName, source: string): void {
    if (source === 'cluster' || !isActionType(type) || !this.options.isUser(name)) return;
    const actions = this.options.settings.get(name).actions[type];
    const switches = MODES.filter((mode) => actions[mode] !== null)
      .map((mode) => ({ device: MODE_DEVICES[mode] + name, state: actions[mode] ? 'INUSE' as const : 'NOT_INUSE' as const }));
    if (switches.length === 0) return;
    const next = (this.pending.get(name) ?? Promise.resolve())
      .then(async () => {
        for (const { device, state } of switches) await this.options.setDevice(device, state);
      })
      .catch((error: Error) => this.summary.note('error', 'state action failures', () => `panel: the ${type} actions of '${name}' failed: ${error.message}`));
    this.pending.set(name, next);
    void next.then(() => {
      if (this.pending.get(name) === next) this.pending.delete(name);
    });
  }

  stop(): void {
    this.summary.stop();
  }
}

function isActionType(type: PresenceStateName): type is ActionType {
  return (ACTION_TYPES as readonly string[]).includes(type);
}
