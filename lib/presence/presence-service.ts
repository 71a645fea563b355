import { EventEmitter } from 'node:events';
import { isStateName, NOT_SET, sameState, type PresenceState, type PresenceValue } from './state.js';
import { presencePublicationStorage, Publications, type Publication, type PublicationCaps, type Stamp } from './publications.js';
import type { PresenceRecord, Store } from '../store/store.js';
import type { ChangeBus, StateChange } from '../store/change-bus.js';
import type { Logger } from '../util/log.js';

export const CUSTOM_PRESENCE = 'CustomPresence:';

export interface PresenceServiceEvents {
  /**
   * provider: 'CustomPresence:<name>'; fired after the change is durable (made here or on another node), with the
   * new effective state. record is
   * the CLI/AMI setting when that is what counts, else the effective state as a record (base64 false, updatedAt
   * when it last changed). source says who changed it: 'cli', 'ami:<user>@<address>', 'http:<caller>', 'sip' for publications,
   * 'cluster' for another node.
   */
  change: [provider: string, state: PresenceState, record: PresenceRecord, source: string];
}

/** The source that counts for a name: the CLI/AMI setting or a live publication. */
export type Source = { setting: PresenceRecord } | { publication: Publication };

/** A name's effective state and where it comes from (undefined: nothing, not_set). */
export interface EffectiveState {
  name: string;
  state: PresenceState;
  source: Source | undefined;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export interface PresenceServiceOptions {
  store: Store;
  /** Tells the other nodes about our changes and us about theirs. */
  bus: ChangeBus;
  /** This node's name on the bus. */
  node: string;
  log: Logger;
  caps?: PublicationCaps;
}

/**
 * The CustomPresence provider. A name's effective state combines its CLI/AMI setting and its live PUBLISHed states:
 * the source changed last wins (ties go to the setting); when a publication expires or is removed, the next
 * most recent source counts again (docs/PUBLISH.md). "Last" is the highest state-key version (Store.nextVersion),
 * so every node sharing a store orders changes alike whatever its clock says. Effective states are kept in memory
 * (read on every NOTIFY), written through to the store before anyone is told, announced on the change bus, and
 * each is an immutable object replaced on change, so bodies can be cached by identity. A change announced by
 * another node is re-read from the store.
 */
export class PresenceService extends EventEmitter<PresenceServiceEvents> {
  /** The CLI/AMI settings, as `presencestate list` shows them. */
  private readonly records = new Map<string, PresenceRecord>();
  /** Effective states; a name without any source is absent (not_set). */
  private readonly states = new Map<string, PresenceState>();
  readonly publications: Publications;
  private readonly store: Store;
  private readonly bus: ChangeBus;
  private readonly node: string;
  private readonly log: Logger;
  private lastStamp = 0;
  /** Highest version seen per name: a bus message at or below it has nothing new. */
  private readonly versions = new Map<string, number>();
  private stopListening: (() => void) | undefined;

  constructor({ store, bus, node, log, caps }: PresenceServiceOptions) {
    super();
    this.store = store;
    this.bus = bus;
    this.node = node;
    this.log = log;
    this.publications = new Publications(presencePublicationStorage(store), (name, version, source = 'sip') => this.changedHere(name, version, source), (name) => this.newStamp(name), log, caps);
  }

  /** Reads the store, then follows the other nodes' changes. */
  async load(): Promise<void> {
    let unreadable = 0;
    for (const record of await this.store.loadPresence()) {
      if (!isPresenceRecord(record)) {
        unreadable++;
        continue;
      }
      this.records.set(record.name, record);
      this.lastStamp = Math.max(this.lastStamp, record.updatedAt);
    }
    if (unreadable > 0) this.log.warn(`store: skipped ${unreadable} unreadable presence record(s)`);
    await this.publications.load();
    for (const name of this.publications.names()) {
      for (const publication of this.publications.live(name)) this.lastStamp = Math.max(this.lastStamp, publication.changedAt);
    }
    for (const name of new Set([...this.records.keys(), ...this.publications.names()])) {
      const source = this.winner(name);
      if (source) this.states.set(name, stateOf(source));
    }
    this.stopListening = this.bus.listen({ change: (change) => this.heard(change), resync: () => void this.rereadAll() });
  }

  /** Stops expiring publications and following the bus. */
  stop(): void {
    this.stopListening?.();
    this.publications.stop();
  }

  /** The effective state a hint's presence part points at; providers other than CustomPresence have no source:
   *  not_set. */
  stateOf(provider: string | undefined): PresenceState {
    if (!provider || !provider.startsWith(CUSTOM_PRESENCE)) return NOT_SET;
    return this.states.get(provider.slice(CUSTOM_PRESENCE.length)) ?? NOT_SET;
  }

  /** The CLI/AMI settings (not the effective states: publications are not listed). */
  list(): PresenceRecord[] {
    return [...this.records.values()].sort(byName);
  }

  /** Every name with a state, set or published, in name order: its effective state and the source it comes from. */
  effectiveStates(): EffectiveState[] {
    const names = [...new Set([...this.records.keys(), ...this.publications.names()])].sort();
    return names.map((name) => ({ name, state: this.states.get(name) ?? NOT_SET, source: this.winner(name) }));
  }

  /** An administrator removes a publication (the phone's next refresh gets 412 and publishes anew). */
  async removePublication(etag: string, source: string): Promise<Publication | undefined> {
    const publication = this.publications.withTag(etag);
    return publication && this.publications.remove(publication.name, etag, source);
  }

  /** Stores the new setting durably; it becomes the effective state (it is the latest change), and listeners are
   *  notified even when the state is the same. */
  async set(name: string, value: PresenceValue, source = 'cli'): Promise<PresenceRecord> {
    const { at, version } = await this.newStamp(name);
    const record: PresenceRecord = {
      name,
      state: value.state.state,
      subtype: value.state.subtype,
      message: value.state.message,
      base64: value.base64,
      updatedAt: at,
      version,
    };
    // Refused only when another node's later setting landed first: that one is the latest, and ours is already past.
    if (!(await this.store.savePresence(record))) return (await this.store.getPresence(name)) ?? record;
    this.records.set(name, record);
    this.changedHere(name, version, source, true);
    return record;
  }

  /** A new version of the name's state key, and a wall-clock time that never goes back within this run. */
  private async newStamp(name: string): Promise<Stamp> {
    const version = await this.store.nextVersion(CUSTOM_PRESENCE + name);
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return { at: this.lastStamp, version };
  }

  /** The precedence rule: the source with the highest version (then the latest time, for records older than
   *  versions); the setting wins a tie. */
  private winner(name: string): Source | undefined {
    const setting = this.records.get(name);
    let source: Source | undefined = setting && { setting };
    let best = setting ? [setting.version, setting.updatedAt] : [-Infinity, -Infinity];
    for (const publication of this.publications.live(name)) {
      if (publication.version > best[0] || (publication.version === best[0] && publication.changedAt > best[1])) {
        source = { publication };
        best = [publication.version, publication.changedAt];
      }
    }
    return source;
  }

  /** A change made on this node: tell the local listeners, then the other nodes. */
  private changedHere(name: string, version: number | undefined, source: string, always = false): void {
    this.update(name, always, source);
    void this.announce(name, version);
  }

  private async announce(name: string, version: number | undefined): Promise<void> {
    const key = CUSTOM_PRESENCE + name;
    try {
      const announced = version ?? (await this.store.nextVersion(key));
      this.versions.set(name, Math.max(this.versions.get(name) ?? 0, announced));
      await this.bus.publish({ key, version: announced, node: this.node });
    } catch (error) {
      // The change is stored: the other nodes read it when they resynchronise.
      this.log.warn(`bus: could not announce the change of ${key}: ${(error as Error).message}`);
    }
  }

  private heard(change: StateChange): void {
    if (change.node === this.node || !change.key.startsWith(CUSTOM_PRESENCE)) return;
    const name = change.key.slice(CUSTOM_PRESENCE.length);
    if (change.version <= (this.versions.get(name) ?? 0)) return;
    this.versions.set(name, change.version);
    this.reread(name).catch((error: Error) => this.log.warn(`bus: could not re-read ${change.key} after a change on ${change.node}: ${error.message}`));
  }

  /** Another node changed a name: read its setting and publications again and tell the listeners what is new. */
  private async reread(name: string): Promise<void> {
    const [setting] = await Promise.all([this.store.getPresence(name), this.publications.reread(name)]);
    const known = this.records.get(name);
    const settingChanged = setting !== undefined && (known === undefined || setting.version > known.version);
    if (settingChanged) this.records.set(name, setting);
    this.update(name, settingChanged, 'cluster');
  }

  /** Messages may have been missed: re-read every name either side knows. */
  private async rereadAll(): Promise<void> {
    try {
      const names = new Set([...this.records.keys(), ...this.publications.names()]);
      for (const record of await this.store.loadPresence()) names.add(record.name);
      for (const record of await this.store.loadPublications()) names.add(record.name);
      for (const name of names) await this.reread(name);
      this.log.info(`bus: re-read ${names.size} presence state(s) after missing changes`);
    } catch (error) {
      this.log.warn(`bus: could not re-read the presence states: ${(error as Error).message}`);
    }
  }

  /** Recomputes a name's effective state and tells listeners when it changed (or always, for a CLI/AMI set). */
  private update(name: string, always: boolean, source: string): void {
    const winner = this.winner(name);
    const next = winner ? stateOf(winner) : NOT_SET;
    const current = this.states.get(name) ?? NOT_SET;
    if (!always && sameState(current, next)) return;
    if (winner) this.states.set(name, next);
    else this.states.delete(name);
    this.audit(name, next, winner, source);
    this.emit('change', CUSTOM_PRESENCE + name, next, recordOf(name, winner, next), source);
  }

  /** The audit trail: one line per state change, saying what it is now, who made it and from where. */
  private audit(name: string, state: PresenceState, winner: Source | undefined, source: string): void {
    const publication = winner && 'publication' in winner ? winner.publication : undefined;
    const by = publication ? `${source} ${publication.source}` : source;
    this.log.info(`state: ${CUSTOM_PRESENCE}${name} is ${state.state} (by ${by})`, {
      entity: CUSTOM_PRESENCE + name,
      state: state.state,
      subtype: state.subtype,
      message: state.message,
      source,
      ...(publication && { publisher: publication.source, etag: publication.etag }),
    });
  }
}

function stateOf(source: Source): PresenceState {
  if ('publication' in source) return source.publication.state;
  const { state, subtype, message } = source.setting;
  return Object.freeze({ state, subtype, message });
}

function recordOf(name: string, source: Source | undefined, state: PresenceState): PresenceRecord {
  if (source && 'setting' in source) return source.setting;
  const updatedAt = source ? source.publication.changedAt : Date.now();
  return { name, ...state, base64: false, updatedAt, version: source ? source.publication.version : 0 };
}

/** A stored row that really is a presence record (a broken file must not stop the start, nor put junk in a NOTIFY). */
function isPresenceRecord(record: PresenceRecord): boolean {
  return typeof record.name === 'string' && isStateName(record.state) && typeof record.subtype === 'string' &&
    typeof record.message === 'string' && Number.isSafeInteger(record.updatedAt) && Number.isSafeInteger(record.version);
}
