/**
 * Published dialogs (RFC 3903 PUBLISH with `Event: dialog`, RFC 4235 bodies): the device source for what a phone or a
 * proxy such as Kamailio's pua_dialoginfo says about an extension's calls. Each extension of a hint has one device,
 * `Dialog:<exten>@<context>`, whose state is its live publications' dialogs combined with Asterisk's rules; it
 * counts in the hint only while a publication lives, and goes away (watchers notified) when the last one expires or
 * is removed. Publications are kept as store documents, so they survive a restart and every node reads them.
 */
import type { Hint } from '../presence/hints.js';
import { Publications, type PublicationCaps, type PublicationStorage, type Stamp, type StoredPublication } from '../presence/publications.js';
import type { PublishedEvent } from '../presence/publish-handler.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/log.js';
import { ERRORS, sipAnswer } from '../errors.js';
import { aggregateDeviceStates, parseDeviceState, type DeviceState } from './device-state.js';
import type { DeviceChanged, DeviceService, DeviceSource } from './device-service.js';
import { parsePublishedDialogInfo, publishedDeviceState } from './dialog-info-reader.js';
import { DIALOG_INFO_TYPE } from './dialog-info.js';

/** The device of an extension's published dialogs: 'Dialog:2000@default'. */
export const PUBLISHED_DIALOG = 'Dialog:';

/** Store documents: `dialog-publications/<exten>@<context>/<entity-tag>`. */
const DOCUMENT_PREFIX = 'dialog-publications/';

/** The resource name of an extension: '2000@default'. */
function resourceOf(hint: Pick<Hint, 'exten' | 'context'>): string {
  return `${hint.exten}@${hint.context}`;
}

/** `Event: dialog`: dialog-info documents for the hint the Request-URI's extension resolves to. */
export const DIALOG_PUBLISHING: PublishedEvent<DeviceState> = {
  bodyTypes: [DIALOG_INFO_TYPE],
  resourceName(hints, user, context) {
    const hint = hints.current.resolve(user, context);
    return hint && resourceOf(hint);
  },
  unknown: { answer: sipAnswer(ERRORS.NO_HINT), log: 'dialog PUBLISHes for extensions without a hint' },
  missingBody: sipAnswer(ERRORS.MISSING_DIALOG_INFO),
  read: (body) => publishedDeviceState(parsePublishedDialogInfo(body)),
  describe: (state) => state,
};

/** What a stored document must hold to be read back (a broken store must not stop the start). */
function readDocument(key: string, data: string): StoredPublication<DeviceState> | undefined {
  let value: Partial<Record<keyof StoredPublication<DeviceState>, unknown>>;
  try {
    value = JSON.parse(data) as typeof value;
  } catch {
    return undefined;
  }
  const { etag, name, state, source, changedAt, expiresAt, version, address } = value;
  if (![etag, name, source, address].every((text) => typeof text === 'string') || key !== documentKey(name as string, etag as string)) return undefined;
  const deviceState = typeof state === 'string' ? parseDeviceState(state) : undefined;
  if (deviceState === undefined || ![changedAt, expiresAt, version].every(Number.isSafeInteger)) return undefined;
  return {
    etag: etag as string, name: name as string, state: deviceState, source: source as string, address: address as string,
    changedAt: changedAt as number, expiresAt: expiresAt as number, version: version as number,
  };
}

function documentKey(name: string, etag: string): string {
  return `${DOCUMENT_PREFIX}${name}/${etag}`;
}

/** Publications of dialogs as store documents, one per entity-tag. */
function documentStorage(store: Store): PublicationStorage<DeviceState> {
  const loadPrefix = async (prefix: string): Promise<{ publications: Array<StoredPublication<DeviceState>>; unreadable: number }> => {
    const documents = await store.loadDocuments(prefix);
    const publications = documents.map(({ key, data }) => readDocument(key, data)).filter((read) => read !== undefined);
    return { publications, unreadable: documents.length - publications.length };
  };
  return {
    same: (a, b) => a === b,
    freeze: (state) => state,
    async save(publication, replaces) {
      const { etag, name, state, source, changedAt, expiresAt, version, address } = publication;
      const data = JSON.stringify({ etag, name, state, source, changedAt, expiresAt, version, address });
      await store.saveDocument({ key: documentKey(name, etag), data }, replaces === undefined ? undefined : documentKey(name, replaces));
    },
    delete: (publication) => store.deleteDocument(documentKey(publication.name, publication.etag)),
    async load(now) {
      const { publications, unreadable } = await loadPrefix(DOCUMENT_PREFIX);
      const live: Array<StoredPublication<DeviceState>> = [];
      for (const publication of publications) {
        if (publication.expiresAt > now) live.push(publication);
        else await store.deleteDocument(documentKey(publication.name, publication.etag));
      }
      return { publications: live, unreadable };
    },
    loadName: async (name) => (await loadPrefix(`${DOCUMENT_PREFIX}${name}/`)).publications.filter((publication) => publication.name === name),
  };
}

export interface PublishedDialogsOptions {
  store: Store;
  devices: DeviceService;
  log: Logger;
  caps?: PublicationCaps;
}

export class PublishedDialogs implements DeviceSource {
  readonly publications: Publications<DeviceState>;
  private readonly report: DeviceChanged;
  private readonly store: Store;
  /** The state last reported per extension: a refresh, or a modification to the same state, tells nobody. */
  private readonly reported = new Map<string, DeviceState>();

  constructor({ store, devices, log, caps }: PublishedDialogsOptions) {
    this.store = store;
    this.report = devices.addSource(this);
    this.publications = new Publications(documentStorage(store), (name, version) => this.changed(name, version), (name) => this.stamp(name), log, caps);
  }

  async load(): Promise<void> {
    await this.publications.load();
    for (const name of this.publications.names()) this.noteReported(name);
  }

  stop(): void {
    this.publications.stop();
  }

  /** The combined state of an extension's live publications; undefined when it has none (the device is gone). */
  stateOf(device: string): DeviceState | undefined {
    if (!this.owns(device)) return undefined;
    const live = this.publications.live(device.slice(PUBLISHED_DIALOG.length));
    return live.length === 0 ? undefined : aggregateDeviceStates(live.map((publication) => publication.state));
  }

  extraDevices(hint: Hint): readonly string[] {
    return [PUBLISHED_DIALOG + resourceOf(hint)];
  }

  owns(device: string): boolean {
    return device.startsWith(PUBLISHED_DIALOG);
  }

  async reread(device: string): Promise<void> {
    const name = device.slice(PUBLISHED_DIALOG.length);
    await this.publications.reread(name);
    this.noteReported(name);
  }

  async rereadAll(): Promise<string[]> {
    const names = new Set(this.publications.names());
    for (const { key } of await this.store.loadDocuments(DOCUMENT_PREFIX)) names.add(key.slice(DOCUMENT_PREFIX.length, key.lastIndexOf('/')));
    const changed: string[] = [];
    for (const name of names) {
      await this.publications.reread(name);
      if (this.noteReported(name)) changed.push(PUBLISHED_DIALOG + name);
    }
    return changed;
  }

  private changed(name: string, version: number | undefined): void {
    if (this.noteReported(name)) this.report(PUBLISHED_DIALOG + name, this.stateOf(PUBLISHED_DIALOG + name) ?? 'NOT_INUSE', version);
  }

  /** Records an extension's current state as the one its watchers know; whether it differs from the last one. */
  private noteReported(name: string): boolean {
    const state = this.stateOf(PUBLISHED_DIALOG + name);
    if (state === this.reported.get(name)) return false;
    if (state === undefined) this.reported.delete(name);
    else this.reported.set(name, state);
    return true;
  }

  private async stamp(name: string): Promise<Stamp> {
    return { at: Date.now(), version: await this.store.nextVersion(PUBLISHED_DIALOG + name) };
  }
}
