import { openDB, type IDBPDatabase } from 'idb';

/** One taught drawing: 28×28 MNIST-like pixels, its label and when it was taught. */
export interface Sample {
  id?: number;
  pixels: Uint8Array;
  label: number;
  at: number;
}

/**
 * The samples kept aside to test on, as indices into `samples` (in the order taught): the 2nd, 7th, 12th, … of
 * each digit — a fifth of each digit's samples, and one as soon as a digit has two. A digit taught once is learned
 * from (there is nothing else to learn it from). Chosen by position, so a sample kept aside stays aside at every
 * later Learn and the accuracy on them is never on digits the model learned from.
 */
export function heldOut(samples: readonly { label: number }[]): Set<number> {
  const seen = new Map<number, number>(),
    out = new Set<number>();
  samples.forEach((s, i) => {
    const p = seen.get(s.label) ?? 0;
    seen.set(s.label, p + 1);
    if (p % 5 === 1) out.add(i);
  });
  return out;
}

/** The taught samples, in IndexedDB (`layerhive-app-samples`), in the order taught. */
export class SampleStore {
  private db: Promise<IDBPDatabase> = openDB('layerhive-app-samples', 1, {
    upgrade: (db) => {
      db.createObjectStore('samples', { keyPath: 'id', autoIncrement: true });
    },
  });

  /** Keeps one sample; gives its id. */
  async add(pixels: Uint8Array, label: number): Promise<number> {
    return Number(await (await this.db).add('samples', { pixels, label, at: Date.now() } satisfies Sample));
  }

  /** Keeps several samples in one transaction (all or none: a failure half way keeps none); gives their ids. */
  async addMany(samples: readonly { pixels: Uint8Array; label: number }[]): Promise<number[]> {
    const tx = (await this.db).transaction('samples', 'readwrite');
    const at = Date.now();
    const ids = await Promise.all([
      ...samples.map(({ pixels, label }) => tx.store.add({ pixels, label, at } satisfies Sample)),
      tx.done,
    ]);
    return ids.slice(0, samples.length).map(Number);
  }

  async all(): Promise<Sample[]> {
    return (await this.db).getAll('samples');
  }

  /** Deletes the samples with these ids (in one transaction: all or none). */
  async delete(ids: readonly number[]): Promise<void> {
    const tx = (await this.db).transaction('samples', 'readwrite');
    await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
  }

  async clear(): Promise<void> {
    await (await this.db).clear('samples');
  }
}
