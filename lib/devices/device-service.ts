/**
 * Device state: what each device of a hint is doing, from a registry of sources, and what a hint's devices add up
 * to. The built-in source is `Custom:` devices (set by `devicestate`, AMI, a web panel; stored before anyone is
 * told). Other sources (published dialogs, later an AMI feed from a running Asterisk) register with `addSource`.
 * A device no source knows counts as NOT_INUSE: PJSIP/SIP/IAX2 devices are idle unless a source says otherwise.
 * Every change is announced on the change bus; a change another node announces is re-read from the store.
 */
import { EventEmitter } from 'node:events';
import type { Hint } from '../presence/hints.js';
import type { ChangeBus, StateChange } from '../store/change-bus.js';
import type { DeviceStateRecord, Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import {
  aggregateDeviceStates, CUSTOM_DEVICE, deviceKey, extensionStateOf, isCustomDevice, parseCustomChange,
  type DeviceState, type ExtensionState,
} from './device-state.js';

/** Where a device change was made: on this node, or on another node of the cluster (heard on the bus, re-read). */
export type DeviceChangeOrigin = 'local' | 'cluster';

export interface DeviceServiceEvents {
  /** Fired after the change is durable (made here or on another node), with the device's key ('Custom:2000') and new state. */
  change: [device: string, state: DeviceState, origin: DeviceChangeOrigin];
}

/** One provider of device states. */
export interface DeviceSource {
  /** The state of a device it knows, or undefined to leave the device to the other sources. */
  stateOf(device: string): DeviceState | undefined;
  /**
   * Devices it adds to a hint beyond the hint's own list (published dialogs of the hint's extension). Their changes
   * reach the hint's watchers; they count in the hint's state only while the source has a state for them.
   */
  extraDevices?(hint: Hint): readonly string[];
  /** Whether a device key is one of its own (another node changed it: `reread` follows). */
  owns?(device: string): boolean;
  /** Reads a device of its own again from the store, after another node changed it. */
  reread?(device: string): Promise<void>;
  /** Reads everything again (bus messages may have been missed); resolves with the devices whose state changed. */
  rereadAll?(): Promise<string[]>;
}

/** A source calls this after a durable change of one of its devices, with the version the change took if it took one. */
export type DeviceChanged = (device: string, state: DeviceState, version?: number) => void;

export interface DeviceServiceOptions {
  store: Store;
  /** Tells the other nodes about our changes and us about theirs. */
  bus: ChangeBus;
  /** This node's name on the bus. */
  node: string;
  log: Logger;
}

export class DeviceService extends EventEmitter<DeviceServiceEvents> {
  /** Custom: states by name (without the prefix). */
  private readonly custom = new Map<string, DeviceStateRecord>();
  private readonly sources: DeviceSource[] = [];
  private readonly store: Store;
  private readonly bus: ChangeBus;
  private readonly node: string;
  private readonly log: Logger;
  /** Highest version seen per device key: a bus message at or below it has nothing new. */
  private readonly versions = new Map<string, number>();
  private stopListening: (() => void) | undefined;

  constructor({ store, bus, node, log }: DeviceServiceOptions) {
    super();
    this.store = store;
    this.bus = bus;
    this.node = node;
    this.log = log;
  }

  /** Reads the stored Custom: states, then follows the other nodes' changes. */
  async load(): Promise<void> {
    for (const record of await this.store.loadDeviceStates()) this.custom.set(record.name, record);
    this.stopListening = this.bus.listen({ change: (change) => this.heard(change), resync: () => void this.rereadAll() });
  }

  /** Stops following the bus. */
  stop(): void {
    this.stopListening?.();
  }

  /** Registers a source and returns how it reports its changes. */
  addSource(source: DeviceSource): DeviceChanged {
    this.sources.push(source);
    return (device, state, version) => this.changedHere(deviceKey(device), state, version);
  }

  /**
   * `devicestate change Custom:2000 INUSE`, AMI `Setvar DEVICE_STATE(Custom:2000)=INUSE`: validated, stored durably,
   * then announced (also when the state is the same, as Asterisk does). Returns the name after 'Custom:'.
   */
  async set(device: string, stateText: string): Promise<{ name: string; state: DeviceState }> {
    const { name, state } = parseCustomChange(device, stateText);
    const version = await this.store.nextVersion(CUSTOM_DEVICE + name);
    const record: DeviceStateRecord = { name, state, updatedAt: Date.now(), version };
    // Refused only when another node's later change landed first: that one is the latest, and ours is already past.
    if (await this.store.saveDeviceState(record)) this.custom.set(name, record);
    this.changedHere(CUSTOM_DEVICE + name, this.stateOf(CUSTOM_DEVICE + name), version);
    return { name, state };
  }

  /** The state of any device ('Custom:2000', 'PJSIP/2000'). A Custom: device never set is UNKNOWN, as in Asterisk. */
  stateOf(device: string): DeviceState {
    const key = deviceKey(device);
    return this.sourceState(key) ?? (isCustomDevice(key) ? this.custom.get(key.slice(CUSTOM_DEVICE.length))?.state ?? 'UNKNOWN' : 'NOT_INUSE');
  }

  /** The stored Custom: states, in name order (`devicestate list`, AMI DeviceStateList). */
  list(): Array<{ device: string; state: DeviceState }> {
    return [...this.custom.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((record) => ({ device: CUSTOM_DEVICE + record.name, state: record.state }));
  }

  /** The devices a hint's state depends on (its watchers' state keys): its own (prefixes normalised) and those sources add. */
  devicesOf(hint: Hint): string[] {
    const devices = hint.devices.map(deviceKey);
    for (const source of this.sources) devices.push(...(source.extraDevices?.(hint) ?? []));
    return devices;
  }

  /** The hint's devices combined with Asterisk's aggregation rules; an added device counts while its source has a state. */
  hintState(hint: Hint): DeviceState {
    const states = hint.devices.map((device) => this.stateOf(device));
    for (const source of this.sources) {
      for (const device of source.extraDevices?.(hint) ?? []) {
        const state = source.stateOf(device);
        if (state !== undefined) states.push(state);
      }
    }
    return aggregateDeviceStates(states);
  }

  extensionState(hint: Hint): ExtensionState {
    return extensionStateOf(this.hintState(hint));
  }

  private sourceState(key: string): DeviceState | undefined {
    for (const source of this.sources) {
      const state = source.stateOf(key);
      if (state !== undefined) return state;
    }
    return undefined;
  }

  /** A change made on this node: tell the local listeners, then the other nodes. */
  private changedHere(device: string, state: DeviceState, version: number | undefined): void {
    this.emit('change', device, state, 'local');
    void this.announce(device, version);
  }

  private async announce(device: string, version: number | undefined): Promise<void> {
    try {
      const announced = version ?? (await this.store.nextVersion(device));
      this.versions.set(device, Math.max(this.versions.get(device) ?? 0, announced));
      await this.bus.publish({ key: device, version: announced, node: this.node });
    } catch (error) {
      // The change is stored: the other nodes read it when they resynchronise.
      this.log.warn(`bus: could not announce the change of ${device}: ${(error as Error).message}`);
    }
  }

  /** Another node changed a device: a Custom: one or one a source owns is read again, and the listeners told. */
  private heard(change: StateChange): void {
    const { key, node, version } = change;
    if (node === this.node || version <= (this.versions.get(key) ?? 0)) return;
    const source = this.sources.find((candidate) => candidate.owns?.(key));
    if (!source && !isCustomDevice(key)) return;
    this.versions.set(key, version);
    const reread = source ? source.reread?.(key) : this.rereadCustom(key.slice(CUSTOM_DEVICE.length));
    Promise.resolve(reread).then(
      () => this.emit('change', key, this.stateOf(key), 'cluster'),
      (error: Error) => this.log.warn(`bus: could not re-read ${key} after a change on ${node}: ${error.message}`),
    );
  }

  private async rereadCustom(name: string): Promise<void> {
    const record = await this.store.getDeviceState(name);
    const known = this.custom.get(name);
    if (record && (!known || record.version > known.version)) this.custom.set(name, record);
  }

  /** Messages may have been missed: re-read every Custom: device and every source, and tell what changed. */
  private async rereadAll(): Promise<void> {
    try {
      const changed: string[] = [];
      for (const record of await this.store.loadDeviceStates()) {
        const known = this.custom.get(record.name);
        if (known && record.version <= known.version) continue;
        this.custom.set(record.name, record);
        changed.push(CUSTOM_DEVICE + record.name);
      }
      for (const source of this.sources) changed.push(...((await source.rereadAll?.()) ?? []));
      for (const device of changed) this.emit('change', device, this.stateOf(device), 'cluster');
      this.log.info(`bus: re-read the device states after missing changes (${changed.length} changed)`);
    } catch (error) {
      this.log.warn(`bus: could not re-read the device states: ${(error as Error).message}`);
    }
  }
}
