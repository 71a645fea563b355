import type { DeviceService } from '../devices/device-service.js';
import { deviceKey, type DeviceState } from '../devices/device-state.js';
import type { Dialplan, Hint } from '../presence/hints.js';
import { CUSTOM_PRESENCE, type PresenceService } from '../presence/presence-service.js';
import { checkedStateName, customPresenceName, parsePresenceValue, presenceState, type PresenceState } from '../presence/state.js';
import { describeFlow } from '../sip/transport.js';
import type { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { expiresAt, resourceKey, watcherUri, type Subscription } from '../subscriptions/subscription.js';
import { ERRORS, PresencedError } from '../errors.js';
import { EXPIRY_CLOCK } from '../util/clock.js';
import type { DeviceListRow, HintRow, PresenceListRow, PublicationRow, StatsRow, SubscriptionRow } from './format.js';

function subscriptionRow(subscription: Subscription): SubscriptionRow {
  return {
    id: subscription.localTag,
    resource: resourceKey(subscription.exten, subscription.context),
    event: subscription.eventPackage.event,
    watcher: watcherUri(subscription),
    userAgent: subscription.userAgent,
    transport: describeFlow(subscription.flow),
    expiresIn: Math.max(0, Math.round(EXPIRY_CLOCK.msUntil(expiresAt(subscription)) / 1000)),
  };
}

export interface ChangeResult { name: string; stateText: string }

export interface PresenceCommandsOptions {
  presence: PresenceService;
  manager: SubscriptionManager;
  dialplan: () => Dialplan;
  devices: DeviceService;
  /** The context an extension without `@context` is looked up in (--context). */
  context: string;
}

/**
 * What every front end (CLI socket, and later AMI and HTTP) can do, in one place, so they share validation and
 * behaviour. Errors are PresenceErrors whose message is meant for the user.
 */
export class PresenceCommands {
  private readonly presence: PresenceService;
  private readonly manager: SubscriptionManager;
  private readonly dialplan: () => Dialplan;
  private readonly devices: DeviceService;
  private readonly context: string;

  constructor({ presence, manager, dialplan, devices, context }: PresenceCommandsOptions) {
    this.presence = presence;
    this.manager = manager;
    this.dialplan = dialplan;
    this.devices = devices;
    this.context = context;
  }

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

  /** `presencestate list`: every name with a state, its effective state and where it comes from, as `hints` sees it. */
  list(): PresenceListRow[] {
    return this.presence.effectiveStates().map(({ name, state, source }) => {
      if (source && 'publication' in source) {
        const { publication } = source;
        return { ...state, name, base64: false, source: 'publication', publisher: publication.source, etag: publication.etag };
      }
      return { ...state, name, base64: source?.setting.base64 ?? false, source: 'setting' };
    });
  }

  /** `presencestate hints [EXTEN[@CONTEXT]]`: every hint, or those `core show hint EXTEN` shows. */
  hints(exten?: string): HintRow[] {
    const watchers = this.manager.watcherCounts();
    const row = (hint: Hint): HintRow => ({ ...this.describeHint(hint), watchers: watchers.get(resourceKey(hint.exten, hint.context)) ?? 0 });
    if (exten === undefined) return this.dialplan().hints.map(row);
    return this.matchingHints(exten).map(row);
  }

  /**
   * Asterisk's `core show hint`: the hints whose extension starts with `exten` (any case), in `@context` if one is
   * given; failing that, the hint a SUBSCRIBE to `exten` would get (patterns, includes). None: NO_MATCHING_HINT.
   */
  private matchingHints(wanted: string): Hint[] {
    const at = wanted.lastIndexOf('@');
    const exten = at < 0 ? wanted : wanted.slice(0, at);
    const context = at < 0 ? undefined : wanted.slice(at + 1);
    if (exten === '') throw new PresencedError(ERRORS.INVALID_VALUE, 'an extension is needed: hints EXTEN[@CONTEXT]');
    const prefix = exten.toLowerCase();
    const matches = this.dialplan().hints.filter((hint) =>
      hint.exten.toLowerCase().startsWith(prefix) && (context === undefined || hint.context === context));
    const resolved = matches.length === 0 ? this.dialplan().resolve(exten, context ?? this.context) : undefined;
    if (resolved) matches.push(resolved);
    if (matches.length === 0) throw new PresencedError(ERRORS.NO_MATCHING_HINT, wanted);
    return matches;
  }

  /** Every provider that has a state, set or published, with its effective state, in name order (AMI PresenceStateList). */
  presenceStates(): Array<{ provider: string; state: PresenceState }> {
    return this.presence.effectiveStates().map(({ name, state }) => ({ provider: CUSTOM_PRESENCE + name, state }));
  }

  /** `presencestate publications`: the live PUBLISHed states, which one counts, and when each ends. */
  publications(): PublicationRow[] {
    const rows: PublicationRow[] = [];
    for (const { name, source } of this.presence.effectiveStates()) {
      for (const publication of this.presence.publications.live(name)) {
        rows.push({
          etag: publication.etag,
          entity: CUSTOM_PRESENCE + name,
          ...publication.state,
          publisher: publication.source,
          expiresIn: Math.max(0, Math.round((publication.expiresAt - Date.now()) / 1000)),
          effective: source !== undefined && 'publication' in source && source.publication === publication,
        });
      }
    }
    return rows;
  }

  /** `presencestate publication remove ETAG`: as if the phone had un-published; watchers see the next source's state. */
  async removePublication(etag: string, source = 'cli'): Promise<PublicationRow> {
    const row = this.publications().find((candidate) => candidate.etag === etag);
    const removed = row && (await this.presence.removePublication(etag, source));
    if (!row || !removed) throw new PresencedError(ERRORS.NO_SUCH_PUBLICATION, etag);
    return row;
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

  /** `presencestate subscriptions [--resource EXTEN[@CONTEXT]]`. */
  subscriptions(resource?: string): SubscriptionRow[] {
    const rows = [...this.manager.all()].map(subscriptionRow);
    if (resource === undefined) return rows;
    const wanted = resource.includes('@') ? resource : `${resource}@${this.context}`;
    return rows.filter((row) => row.resource === wanted);
  }

  /**
   * `presencestate subscription kick ID`: ends it with a final NOTIFY, `terminated;reason=deactivated` (RFC 6665
   * §4.2.2): the watcher may subscribe again at once — to this server, or to another after a move.
   */
  kickSubscription(id: string): SubscriptionRow {
    const subscription = this.manager.byId(id);
    if (!subscription) throw new PresencedError(ERRORS.NO_SUCH_SUBSCRIPTION, id);
    const row = subscriptionRow(subscription);
    this.manager.terminate(subscription, 'deactivated');
    return row;
  }
}
