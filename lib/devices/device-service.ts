/**
 * Device state: what each device of a hint is doing, from a registry of sources, and what a hint's devices add up
 * to. The built-in source is `Custom:` devices (set by `devicestate`, AMI, a web panel; stored before anyone is
 * told). Other sources (published dialogs, later an AMI feed from a running Asterisk) register with `addSource`.
 * A device no source knows counts as NOT_INUSE: PJSIP/SIP/IAX2 devices are idle unless a source says otherwise.
 */
import { EventEmitter } from 'node:events';
import type { Hint } from '../presence/hints.js';
import type { DeviceStateRecord, Store } from '../store/store.js';
import {
  aggregateDeviceStates, CUSTOM_DEVICE, deviceKey, extensionStateOf, isCustomDevice, parseCustomChange,
  type DeviceState, type ExtensionState,
} from './device-state.js';

export interface DeviceServiceEvents {
  /** Fired after the change is durable (for `Custom:`), with the device's key ('Custom:2000') and new state. */
  change: [device: string, state: DeviceState];
}

/** One provider of device states. */
export interface DeviceSource {
  /** The state of a device it knows, or undefined to leave the device to the other sources. */
  stateOf(device: string): DeviceState | undefined;
  /** Devices it adds to a hint beyond the hint's own list (published dialogs of the hint's extension). */
  extraDevices?(hint: Hint): readonly string[];
}

/** A source calls this after a change of one of its devices; the service tells the listeners. */
export type DeviceChanged = (device: string, state: DeviceState) => void;

export class DeviceService extends EventEmitter<DeviceServiceEvents> {
  /** Custom: states by name (without the prefix). */
  private readonly custom = new Map<string, DeviceStateRecord>();
  private readonly sources: DeviceSource[] = [];

  constructor(private readonly store: Store) {
    super();
  }

  async load(): Promise<void> {
    for (const record of await this.store.loadDeviceStates()) this.custom.set(record.name, record);
  }

  /** Registers a source and returns how it reports its changes. */
  addSource(source: DeviceSource): DeviceChanged {
    this.sources.push(source);
    return (device, state) => this.emit('change', deviceKey(device), state);
  }

  /**
   * `devicestate change Custom:2000 INUSE`, AMI `Setvar DEVICE_STATE(Custom:2000)=INUSE`: validated, stored durably,
   * then announced (also when the state is the same, as Asterisk does). Returns the name after 'Custom:'.
   */
  async set(device: string, stateText: string): Promise<{ name: string; state: DeviceState }> {
    const { name, state } = parseCustomChange(device, stateText);
    const version = await this.store.nextVersion(CUSTOM_DEVICE + name);
    const record: DeviceStateRecord = { name, state, updatedAt: Date.now(), version };
    await this.store.saveDeviceState(record);
    this.custom.set(name, record);
    this.emit('change', CUSTOM_DEVICE + name, state);
    return { name, state };
  }

  /** The state of any device ('Custom:2000', 'PJSIP/2000'). A Custom: device never set is UNKNOWN, as in Asterisk. */
  stateOf(device: string): DeviceState {
    const key = deviceKey(device);
    for (const source of this.sources) {
      const state = source.stateOf(key);
      if (state !== undefined) return state;
    }
    if (isCustomDevice(key)) return this.custom.get(key.slice(CUSTOM_DEVICE.length))?.state ?? 'UNKNOWN';
    return 'NOT_INUSE';
  }

  /** The stored Custom: states, in name order (`devicestate list`, AMI DeviceStateList). */
  list(): Array<{ device: string; state: DeviceState }> {
    return [...this.custom.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((record) => ({ device: CUSTOM_DEVICE + record.name, state: record.state }));
  }

  /** The devices a hint's state depends on: its own (prefixes normalised) and those sources add. */
  devicesOf(hint: Hint): string[] {
    const devices = hint.devices.map(deviceKey);
    for (const source of this.sources) devices.push(...(source.extraDevices?.(hint) ?? []));
    return devices;
  }

  /** The hint's devices combined with Asterisk's aggregation rules. */
  hintState(hint: Hint): DeviceState {
    return aggregateDeviceStates(this.devicesOf(hint).map((device) => this.stateOf(device)));
  }

  extensionState(hint: Hint): ExtensionState {
    return extensionStateOf(this.hintState(hint));
  }
}
