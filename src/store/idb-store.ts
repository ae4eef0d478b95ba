import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { fail } from '../core/errors.js';
import type { Manifest } from './codec.js';
import { VersionedStore, type SaveOptions } from './store.js';

interface Schema extends DBSchema {
  manifests: { key: [string, number]; value: Manifest };
  records: { key: [string, number, string]; value: Uint8Array };
}

/** Usage and quota of this origin's storage, where the browser tells (`navigator.storage.estimate()`). */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!s?.estimate) return null;
  const e = await s.estimate();
  return { usage: e.usage ?? 0, quota: e.quota ?? Infinity };
}

/** Asks the browser not to evict this origin's storage under pressure; true when granted. */
export async function requestPersistence(): Promise<boolean> {
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  return s?.persist ? s.persist() : false;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
/** Every record key of one version: [name, version, ""] up to [name, version, []] (arrays sort after strings). */
const versionRange = (name: string, v: number) => IDBKeyRange.bound([name, v, ''], [name, v, []]);

/**
 * Checkpoints in IndexedDB (browsers and workers), through `idb`. A version's manifest and every tensor record
 * are written — and older versions dropped — in one readwrite transaction: it commits whole or not at all (an
 * abort, a closed page or a killed worker leave the store as it was). The first save asks the browser to persist
 * the origin's storage (`navigator.storage.persist()`); before writing, the origin's quota is checked, and a write
 * the browser refuses for quota is a QUOTA_EXCEEDED error too, with the sizes.
 */
export class IdbCheckpointStore extends VersionedStore {
  protected readonly where: string;
  private db: Promise<IDBPDatabase<Schema>> | null = null;
  private persistence: Promise<boolean> | null = null;

  constructor(readonly dbName = 'layerhive-checkpoints') {
    super();
    this.where = `IndexedDB '${dbName}'`;
  }

  private open(): Promise<IDBPDatabase<Schema>> {
    this.db ??= openDB<Schema>(this.dbName, 1, {
      upgrade(db) {
        db.createObjectStore('manifests');
        db.createObjectStore('records');
      },
    });
    return this.db;
  }

  /** Closes the connection (a new call opens it again). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = null;
  }

  async names(): Promise<string[]> {
    const keys = await (await this.open()).getAllKeys('manifests');
    return [...new Set(keys.map(([n]) => n))].sort();
  }

  protected async manifests(name: string): Promise<Manifest[]> {
    return (await this.open()).getAll('manifests', IDBKeyRange.bound([name, -Infinity], [name, Infinity]));
  }

  protected async records(name: string, m: Manifest): Promise<Map<string, Uint8Array>> {
    const db = await this.open();
    const tx = db.transaction('records');
    const out = new Map<string, Uint8Array>();
    for await (const c of tx.store.iterate(versionRange(name, m.version))) out.set(c.key[2], new Uint8Array(c.value));
    return out;
  }

  /** Whether the browser agreed to keep this origin's data under storage pressure (asked once, at the first save). */
  persisted(): Promise<boolean> {
    this.persistence ??= requestPersistence().catch(() => false);
    return this.persistence;
  }

  protected async commit(
    name: string,
    m: Manifest,
    records: ReadonlyMap<string, Uint8Array>,
    drop: number[],
    o: SaveOptions,
  ): Promise<void> {
    await this.persisted();
    const est = await storageEstimate();
    if (est && est.usage + m.bytes > est.quota) {
      fail(
        'QUOTA_EXCEEDED',
        `checkpoint '${name}' needs ${mib(m.bytes)} ` +
          `but this origin uses ${mib(est.usage)} of its ${mib(est.quota)} quota`,
        'delete old versions or other data (or call requestPersistence()); the previous version is unchanged',
      );
    }
    const db = await this.open();
    const tx = db.transaction(['manifests', 'records'], 'readwrite');
    const onAbort = () => {
      try {
        tx.abort();
      } catch {
        /* already finished */
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // every request is queued synchronously: nothing awaited in between, so the transaction cannot commit early
      const done = tx.done;
      const writes: Promise<unknown>[] = [tx.objectStore('manifests').put(m, [name, m.version])];
      for (const e of m.records)
        writes.push(tx.objectStore('records').put(records.get(e.key)!, [name, m.version, e.key]));
      for (const v of drop)
        writes.push(
          tx.objectStore('manifests').delete([name, v]),
          tx.objectStore('records').delete(versionRange(name, v)),
        );
      // the hook runs synchronously: awaiting anything else here would let IndexedDB commit the transaction
      void o.beforeCommit?.();
      if (o.signal?.aborted) onAbort();
      await Promise.all([done, ...writes]);
    } catch (e) {
      const err = e as DOMException;
      if (err?.name === 'QuotaExceededError') {
        const now = await storageEstimate();
        fail(
          'QUOTA_EXCEEDED',
          `the browser refused ${mib(m.bytes)} for checkpoint '${name}' (quota exceeded` +
            (now ? `; this origin uses ${mib(now.usage)} of ${mib(now.quota)} by navigator.storage.estimate()` : '') +
            ')',
          'delete old versions or other data; the previous version is unchanged',
        );
      }
      if (err?.name === 'AbortError' || o.signal?.aborted)
        fail(
          'ABORTED',
          `saving checkpoint '${name}' was aborted; nothing of it was stored`,
          'the previous version is unchanged',
        );
      throw e;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  protected async remove(name: string, versions: number[]): Promise<void> {
    const tx = (await this.open()).transaction(['manifests', 'records'], 'readwrite');
    for (const v of versions) {
      void tx.objectStore('manifests').delete([name, v]);
      void tx.objectStore('records').delete(versionRange(name, v));
    }
    await tx.done;
  }
}
