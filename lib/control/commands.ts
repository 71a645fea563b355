import type { DeviceService } from '../devices/device-service.js';
import { deviceKey, type DeviceState } from '../devices/device-state.js';
import type { Dialplan, Hint } from '../presence/hints.js';
import { CUSTOM_PRESENCE, type PresenceService } from '../presence/presence-service.js';
import { checkedStateName, customPresenceName, parsePresenceValue, presenceState, type PresenceState } from '../presence/state.js';
import { describeFlow } from '../sip/transport.js';
import type { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { expiresAt, resourceKey, watcherUri } from '../subscriptions/subscription.js';
import { EXPIRY_CLOCK } from '../util/clock.js';
import type { DeviceListRow, HintRow, PresenceListRow, StatsRow, SubscriptionRow } from './format.js';

export interface ChangeResult { name: string; stateText: string }

/**
 * What every front end (CLI socket, and later AMI and HTTP) can do, in one place, so they share validation and
 * behaviour. Errors are PresenceErrors whose message is meant for the user.
 */
export class PresenceCommands {
  constructor(
    private readonly presence: PresenceService,
    private readonly manager: SubscriptionManager,
    private readonly dialplan: () => Dialplan,
    private readonly devices: DeviceService,
  ) {}

  /** `devicestate change Custom:2000 INUSE`: validated fully before anything is stored. */
  async changeDevice(device: string, stateText: string): Promise<ChangeResult> {
    const { name } = await this.devices.set(device, stateText);
    return { name, stateText };
  }

  /** `devicestate list`: the stored Custom: states. */
  deviceList(): DeviceListRow[] {
    return this.devices.list();
  }

  /** Every device known: the stored Custom: ones and those the hints name, in name order (AMI DeviceStateList). */
  deviceStates(): Array<{ device: string; state: DeviceState }> {
    const devices = new Set(this.devices.list().map((row) => row.device));
    for (const hint of this.dialplan().hints) {
      if (!hint.exten.startsWith('_')) for (const device of hint.devices) devices.add(deviceKey(device));
    }
    return [...devices].sort().map((device) => ({ device, state: this.devices.stateOf(device) }));
  }

  /** Any device's state (AMI DEVICE_STATE() reads): Custom: from the store, others from their sources. */
  deviceState(device: string): DeviceState {
    return this.devices.stateOf(device);
  }

  /** `presencestate change CustomPresence:6002 away,at home,Sick`: validated fully before anything is stored. */
  async change(entity: string, value: string, source = 'cli'): Promise<ChangeResult> {
    const name = customPresenceName(entity);
    const parsed = parsePresenceValue(value);
    await this.presence.set(name, parsed, source);
    return { name, stateText: parsed.stateText };
  }

  /** The HTTP API's change: the same checks, from fields rather than Asterisk's comma syntax (so a message may hold
   *  commas). Durable when it resolves. */
  async set(name: string, fields: { state: string; subtype?: string; message?: string }, source: string): Promise<PresenceState> {
    customPresenceName(CUSTOM_PRESENCE + name);
    const state = presenceState(checkedStateName(fields.state), fields.subtype ?? '', fields.message ?? '');
    await this.presence.set(name, { state, stateText: fields.state, base64: false }, source);
    return state;
  }

  list(): PresenceListRow[] {
    return this.presence.list().map(({ name, state, subtype, message, base64 }) => ({ name, state, subtype, message, base64 }));
  }

  hints(): HintRow[] {
    const watchers = this.manager.watcherCounts();
    return this.dialplan().hints.map((hint) => ({
      ...this.describeHint(hint),
      watchers: watchers.get(resourceKey(hint.exten, hint.context)) ?? 0,
    }));
  }

  /** Every provider that has a state, set or published, with its effective state, in name order (AMI PresenceStateList). */
  presenceStates(): Array<{ provider: string; state: PresenceState }> {
    const names = new Set([...this.presence.list().map((record) => record.name), ...this.presence.publications.names()]);
    return [...names].sort().map((name) => ({ provider: CUSTOM_PRESENCE + name, state: this.presence.stateOf(CUSTOM_PRESENCE + name) }));
  }

  /** One provider's current state (AMI PresenceState, PRESENCE_STATE reads), the entity checked as `change` does. */
  presenceOf(entity: string): PresenceState {
    return this.presence.stateOf(CUSTOM_PRESENCE + customPresenceName(entity));
  }

  /** The hint `exten` resolves to in `context` (includes and patterns, as for a SUBSCRIBE); undefined if none. */
  hint(exten: string, context: string): Omit<HintRow, 'watchers'> | undefined {
    const hint = this.dialplan().resolve(exten, context);
    return hint && this.describeHint(hint);
  }

  private describeHint(hint: Hint): Omit<HintRow, 'watchers'> {
    return {
      exten: hint.exten,
      context: hint.context,
      hint: hint.text,
      deviceState: this.devices.extensionState(hint),
      presence: this.presence.stateOf(hint.presence).state,
    };
  }

  /** What `presencestate stats` shows: counts and the process's memory. */
  stats(): StatsRow[] {
    const memory = process.memoryUsage();
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    return [
      ['Hints', String(this.dialplan().hints.length)],
      ['Subscriptions', String(this.manager.size)],
      ['Custom presence states', String(this.presence.list().length)],
      ['Custom device states', String(this.devices.list().length)],
      ['Uptime', `${Math.round(process.uptime())} s`],
      ['Resident memory', mib(memory.rss)],
      ['Heap used', mib(memory.heapUsed)],
      ['Heap total', mib(memory.heapTotal)],
    ];
  }

  subscriptions(): SubscriptionRow[] {
    return [...this.manager.all()].map((subscription) => ({
      resource: resourceKey(subscription.exten, subscription.context),
      watcher: watcherUri(subscription),
      userAgent: subscription.userAgent,
      transport: describeFlow(subscription.flow),
      expiresIn: Math.max(0, Math.round(EXPIRY_CLOCK.msUntil(expiresAt(subscription)) / 1000)),
    }));
  }
}
