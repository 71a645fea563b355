import { StoreClosedError, type DeviceStateRecord, type DocumentRecord, type PresenceRecord, type PublicationRecord, type Store, type SubscriptionPage, type SubscriptionRecord } from './store.js';

/**
 * Orders strings by Unicode code point, matching SQLite's BINARY collation on UTF-8 text.
 * Plain `<` compares UTF-16 code units, which sorts astral characters (surrogate pairs) before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  for (;;) {
    if (i >= a.length) return i >= b.length ? 0 : -1;
    if (i >= b.length) return 1;
    const codeA = a.codePointAt(i) as number;
    const codeB = b.codePointAt(i) as number;
    if (codeA !== codeB) return codeA - codeB;
    i += codeA > 0xffff ? 2 : 1;
  }
}

/** Deletes the records with expiresAt <= now; returns how many. */
function purgeExpired(records: Map<string, { expiresAt: number }>, now: number): number {
  let purged = 0;
  for (const [key, record] of records) {
    if (record.expiresAt <= now) {
      records.delete(key);
      purged++;
    }
  }
  return purged;
}

/** Non-durable store: the default when no data directory is wanted. Records are copied in and out. */
class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly presence = new Map<string, PresenceRecord>();
  private readonly devices = new Map<string, DeviceStateRecord>();
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private readonly publications = new Map<string, PublicationRecord>();
  private readonly versions = new Map<string, number>();
  private readonly leases = new Map<string, number>();
  private readonly documents = new Map<string, string>();
  private closed = false;

  async nextVersion(key: string): Promise<number> {
    this.assertOpen();
    const version = (this.versions.get(key) ?? 0) + 1;
    this.versions.set(key, version);
    return version;
  }

  async savePresence(record: PresenceRecord): Promise<boolean> {
    this.assertOpen();
    const stored = this.presence.get(record.name);
    if (stored && stored.version >= record.version) return false;
    this.presence.set(record.name, { ...record });
    return true;
  }

  async deletePresence(name: string): Promise<void> {
    this.assertOpen();
    this.presence.delete(name);
  }

  async loadPresence(): Promise<PresenceRecord[]> {
    this.assertOpen();
    return [...this.presence.values()]
      .map((record) => ({ ...record }))
      .sort((a, b) => compareCodePoints(a.name, b.name));
  }

  async getPresence(name: string): Promise<PresenceRecord | undefined> {
    this.assertOpen();
    const record = this.presence.get(name);
    return record && { ...record };
  }

  async saveDeviceState(record: DeviceStateRecord): Promise<boolean> {
    this.assertOpen();
    const stored = this.devices.get(record.name);
    if (stored && stored.version >= record.version) return false;
    this.devices.set(record.name, { ...record });
    return true;
  }

  async loadDeviceStates(): Promise<DeviceStateRecord[]> {
    this.assertOpen();
    return [...this.devices.values()].map((record) => ({ ...record })).sort((a, b) => compareCodePoints(a.name, b.name));
  }

  async getDeviceState(name: string): Promise<DeviceStateRecord | undefined> {
    this.assertOpen();
    const record = this.devices.get(name);
    return record && { ...record };
  }

  async writeSubscriptions(upserts: SubscriptionRecord[], deletes: string[]): Promise<void> {
    this.assertOpen();
    for (const record of upserts) this.subscriptions.set(record.id, { ...record });
    for (const id of deletes) this.subscriptions.delete(id);
  }

  async loadSubscriptions(page: SubscriptionPage = {}): Promise<SubscriptionRecord[]> {
    this.assertOpen();
    const order = (a: SubscriptionRecord, b: SubscriptionRecord): number => b.expiresAt - a.expiresAt || compareCodePoints(b.id, a.id);
    const { after, limit = Infinity } = page;
    const records = [...this.subscriptions.values()].filter((record) => after === undefined || order(after as SubscriptionRecord, record) < 0);
    return records.sort(order).slice(0, limit).map((record) => ({ ...record }));
  }

  async purgeExpiredSubscriptions(now: number): Promise<number> {
    this.assertOpen();
    return purgeExpired(this.subscriptions, now);
  }

  async savePublication(record: PublicationRecord, replaces?: string): Promise<void> {
    this.assertOpen();
    if (replaces !== undefined) this.publications.delete(replaces);
    this.publications.set(record.etag, { ...record });
  }

  async deletePublication(etag: string): Promise<void> {
    this.assertOpen();
    this.publications.delete(etag);
  }

  async loadPublications(): Promise<PublicationRecord[]> {
    this.assertOpen();
    return [...this.publications.values()].map((record) => ({ ...record }));
  }

  async getPublications(name: string): Promise<PublicationRecord[]> {
    this.assertOpen();
    return [...this.publications.values()].filter((record) => record.name === name).map((record) => ({ ...record }));
  }

  async purgeExpiredPublications(now: number): Promise<number> {
    this.assertOpen();
    return purgeExpired(this.publications, now);
  }

  async saveDocument(record: DocumentRecord, replaces?: string): Promise<void> {
    this.assertOpen();
    if (replaces !== undefined && replaces !== record.key) this.documents.delete(replaces);
    this.documents.set(record.key, record.data);
  }

  async deleteDocument(key: string): Promise<void> {
    this.assertOpen();
    this.documents.delete(key);
  }

  async loadDocuments(prefix: string): Promise<DocumentRecord[]> {
    this.assertOpen();
    return [...this.documents].filter(([key]) => key.startsWith(prefix)).map(([key, data]) => ({ key, data })).sort((a, b) => compareCodePoints(a.key, b.key));
  }

  async renewLease(node: string, untilMs: number): Promise<void> {
    this.assertOpen();
    this.leases.set(node, untilMs);
  }

  async expiredLeases(now: number): Promise<string[]> {
    this.assertOpen();
    return [...this.leases].filter(([, until]) => until < now).map(([node]) => node);
  }

  async takeOver(node: string, now: number): Promise<boolean> {
    this.assertOpen();
    const until = this.leases.get(node);
    if (until === undefined || until >= now) return false;
    this.leases.delete(node);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.documents.clear();
    this.presence.clear();
    this.subscriptions.clear();
    this.publications.clear();
    this.versions.clear();
    this.leases.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(this.kind);
  }
}

export function createMemoryStore(): Store {
  return new MemoryStore();
}
