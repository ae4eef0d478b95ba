import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/index.js';
import {
  BatchIterator,
  epochOrder,
  MNIST_NORMALIZATION,
  normalizePixels,
  toTensors,
  UNIT_SCALE,
  type Batch,
  type ImageDataset,
} from '../../../src/data/index.js';
import { expectClose, js } from '../helpers.js';

/** n images of 2×2 whose pixels all equal (i mod 256), labelled i mod 10: each sample says which it is. */
function numbered(n: number): ImageDataset {
  const images = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i % 256, i * 4, i * 4 + 4);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels, count: n, shape: [1, 2, 2], classes: 10 };
}

const take = (it: BatchIterator, k: number): Batch[] => Array.from({ length: k }, () => it.next());
const plain = (b: Batch) => ({
  x: Array.from(b.x),
  y: Array.from(b.y),
  indices: Array.from(b.indices),
  shape: b.shape,
  epoch: b.epoch,
});

describe('epoch order', { tags: ['invariant'] }, () => {
  it('is a permutation: every index exactly once', () => {
    const order = epochOrder(1000, new Rng(1));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('the same seed gives the same order, another seed another', () => {
    const a = Array.from(epochOrder(500, new Rng(7)));
    expect(Array.from(epochOrder(500, new Rng(7)))).toEqual(a);
    expect(Array.from(epochOrder(500, new Rng(8)))).not.toEqual(a);
  });

  it('puts each index at each place about equally often', () => {
    // 3! orders of 3 items, each with probability 1/6: counts of where item 0 lands must be flat.
    const rng = new Rng(3),
      at = [0, 0, 0],
      n = 30_000;
    for (let t = 0; t < n; t++) at[epochOrder(3, rng).indexOf(0)]++;
    for (const c of at) expect(Math.abs(c / n - 1 / 3)).toBeLessThan(0.015);
  });
});

describe('BatchIterator', () => {
  it('serves every index once per epoch, in a new order each epoch', { tags: ['invariant'] }, () => {
    const it = new BatchIterator(numbered(103), { batchSize: 10, seed: 4 });
    expect(it.batchesPerEpoch).toBe(11);
    const epochs = [0, 1, 2].map(() => take(it, 11));
    const orders = epochs.map((bs) => bs.flatMap((b) => Array.from(b.indices)));
    for (const [e, o] of orders.entries()) {
      expect(epochs[e].every((b) => b.epoch === e)).toBe(true);
      expect([...o].sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    }
    expect(orders[1]).not.toEqual(orders[0]);
    expect(orders[2]).not.toEqual(orders[1]);
  });

  it('is reproducible from the seed and differs across seeds', { tags: ['invariant'] }, () => {
    const run = (seed: number) => take(new BatchIterator(numbered(50), { batchSize: 8, seed }), 20).map(plain);
    expect(run(11)).toEqual(run(11));
    expect(run(12)).not.toEqual(run(11));
  });

  it('pairs each image with its own label, in [B, C, H, W] layout', { tags: ['invariant'] }, () => {
    const it = new BatchIterator(numbered(30), { batchSize: 7, seed: 2, normalization: UNIT_SCALE });
    for (const b of take(it, 10)) {
      expect(b.shape).toEqual([b.indices.length, 1, 2, 2]);
      expect(b.x.length).toBe(b.indices.length * 4);
      b.indices.forEach((idx, i) => {
        expect(b.y[i]).toBe(idx % 10);
        expectClose(b.x.subarray(i * 4, i * 4 + 4), new Array(4).fill(idx / 255), 1e-6, 1e-7, `sample ${idx}`);
      });
    }
  });

  it('keeps the last partial batch by default and drops it with dropLast', { tags: ['behaviour'] }, () => {
    const kept = new BatchIterator(numbered(23), { batchSize: 10, shuffle: false });
    expect(take(kept, 4).map((b) => [b.epoch, b.indices.length, b.indices[0]])).toEqual([
      [0, 10, 0],
      [0, 10, 10],
      [0, 3, 20],
      [1, 10, 0],
    ]);
    const dropped = new BatchIterator(numbered(23), { batchSize: 10, shuffle: true, dropLast: true, seed: 1 });
    expect(dropped.batchesPerEpoch).toBe(2);
    const bs = take(dropped, 6);
    expect(bs.map((b) => [b.epoch, b.indices.length])).toEqual([
      [0, 10],
      [0, 10],
      [1, 10],
      [1, 10],
      [2, 10],
      [2, 10],
    ]);
    // The dropped 3 are not always the same 3: each epoch's order is new.
    const seen = (e: number) => new Set(bs.filter((b) => b.epoch === e).flatMap((b) => Array.from(b.indices)));
    expect(seen(0)).not.toEqual(seen(1));
  });

  it('without shuffle keeps the dataset order, and restOfEpoch stops at the epoch end', { tags: ['behaviour'] }, () => {
    const it = new BatchIterator(numbered(25), { batchSize: 10, shuffle: false });
    const first = [...it.restOfEpoch()];
    expect(first.map((b) => b.indices.length)).toEqual([10, 10, 5]);
    expect(first.flatMap((b) => Array.from(b.indices))).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const second = [...it.restOfEpoch()];
    expect(second.map((b) => b.epoch)).toEqual([1, 1, 1]);
  });

  it('resumes from a cursor exactly: 2.5 epochs straight = 1.3 epochs + resume', { tags: ['invariant'] }, () => {
    const ds = numbered(103),
      opts = { batchSize: 10, seed: 99 };
    const straight = take(new BatchIterator(ds, opts), 28).map(plain); // 11 batches per epoch
    const first = new BatchIterator(ds, opts);
    const head = take(first, 14).map(plain);
    const cursor = JSON.parse(JSON.stringify(first.getCursor()));
    expect(cursor.epoch).toBe(1);
    expect(cursor.position).toBe(30);
    const resumed = new BatchIterator(ds, { ...opts, seed: 12345, cursor }); // the cursor, not the seed, decides
    const tail = take(resumed, 14).map(plain);
    expect(head).toEqual(straight.slice(0, 14));
    expect(tail).toEqual(straight.slice(14));
  });

  it('resumes at an epoch boundary, with dropLast, and after restOfEpoch', { tags: ['invariant'] }, () => {
    const ds = numbered(47),
      opts = { batchSize: 6, seed: 5, dropLast: true };
    const straight = take(new BatchIterator(ds, opts), 21).map(plain); // 7 batches per epoch
    const a = new BatchIterator(ds, opts);
    take(a, 7);
    const c = a.getCursor();
    expect([c.epoch, c.position]).toEqual([1, 0]);
    expect(take(new BatchIterator(ds, { ...opts, cursor: c }), 14).map(plain)).toEqual(straight.slice(7));
    const b = new BatchIterator(ds, opts);
    [...b.restOfEpoch()];
    [...b.restOfEpoch()];
    expect(take(new BatchIterator(ds, { ...opts, cursor: b.getCursor() }), 7).map(plain)).toEqual(straight.slice(14));
  });

  it('a cursor at the very end of an epoch resumes like one at the start of the next', { tags: ['invariant'] }, () => {
    const ds = numbered(20),
      opts = { batchSize: 8, seed: 6 };
    const a = new BatchIterator(ds, opts);
    const start = a.getCursor();
    take(a, 3);
    const next = a.getCursor();
    const atEnd = { epoch: 0, position: 20, rngState: start.rngState };
    const fromEnd = take(new BatchIterator(ds, { ...opts, cursor: atEnd }), 3).map(plain);
    expect(fromEnd).toEqual(take(new BatchIterator(ds, { ...opts, cursor: next }), 3).map(plain));
    expect(fromEnd.map((b) => b.epoch)).toEqual([1, 1, 1]);
  });

  it('refuses a cursor that does not fit, and a batch size that serves nothing', { tags: ['behaviour'] }, () => {
    const ds = numbered(20);
    const bad = [
      { epoch: 0, position: 21, rngState: [1, 2, 3, 4] },
      { epoch: -1, position: 0, rngState: [1, 2, 3, 4] },
      { epoch: 0, position: 0, rngState: [0, 0, 0, 0] },
      { epoch: 0, position: 0, rngState: [1, 2, 3] },
    ];
    for (const cursor of bad) {
      expect(() => new BatchIterator(ds, { batchSize: 4, cursor })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(() => new BatchIterator(ds, { batchSize: 21, dropLast: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new BatchIterator(ds, { batchSize: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new BatchIterator(numbered(0), { batchSize: 1 })).toThrow(
      expect.objectContaining({ code: 'DATA_INVALID' }),
    );
  });
});

describe('normalisation', () => {
  it('maps bytes to (v/255 − 0.1307)/0.3081 by default and to v/255 with UNIT_SCALE', {
    tags: ['hand-computed'],
  }, () => {
    const px = Uint8Array.from([0, 1, 128, 255]);
    expectClose(normalizePixels(px), [-0.4242129, -0.4114847, 1.2050009, 2.8214865], 1e-6, 1e-6, 'mnist');
    expectClose(normalizePixels(px, UNIT_SCALE), [0, 1 / 255, 128 / 255, 1], 0, 1e-7, 'unit');
    expect(MNIST_NORMALIZATION).toEqual({ mean: 0.1307, std: 0.3081 });
  });

  it('normalised MNIST-like data in a batch matches normalizePixels', { tags: ['invariant'] }, () => {
    const ds = numbered(12);
    const b = new BatchIterator(ds, { batchSize: 12, shuffle: false }).next();
    expect(Array.from(b.x)).toEqual(Array.from(normalizePixels(ds.images)));
  });

  it('refuses a zero std', { tags: ['behaviour'] }, () => {
    expect(() => normalizePixels(new Uint8Array(1), { mean: 0, std: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});

describe('toTensors', { tags: ['behaviour'] }, () => {
  it('gives float32 x [B, C, H, W] and int32 y [B] on the backend', () => {
    const b = new BatchIterator(numbered(13), { batchSize: 5, seed: 3 }).next();
    const { x, y } = toTensors(b, js);
    try {
      expect(x.shape).toEqual([5, 1, 2, 2]);
      expect(x.dtype).toBe('float32');
      expect(y.shape).toEqual([5]);
      expect(y.dtype).toBe('int32');
      expect(x.toArray()).toEqual(Array.from(b.x));
      expect(y.toArray()).toEqual(Array.from(b.y));
    } finally {
      x.dispose();
      y.dispose();
    }
  });
});
