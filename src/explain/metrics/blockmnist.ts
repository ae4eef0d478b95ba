import { Rng } from '../../core/rng.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { Attribution } from '../types.js';

/** A BlockMNIST set: [1, 56, 28] images, and which half holds the digit (1 = top). */
export interface BlockMnist {
  dataset: ImageDataset;
  digitOnTop: Uint8Array;
}

/**
 * BlockMNIST (Shah et al. 2021): each image stacks the MNIST digit (28×28) and a "null" block — a fixed hollow
 * square, the same for every class, so it carries no label information — in random order. A map that explains
 * the digit puts its mass in the digit's block.
 */
export function blockMnist(ds: ImageDataset, o: { count?: number; seed?: number } = {}): BlockMnist {
  const n = Math.min(o.count ?? ds.count, ds.count),
    rng = new Rng(o.seed ?? 0),
    P = 28 * 28;
  const patch = new Uint8Array(P);
  for (let y = 8; y < 20; y++)
    for (let x = 8; x < 20; x++) if (y < 10 || y >= 18 || x < 10 || x >= 18) patch[y * 28 + x] = 255;
  const images = new Uint8Array(n * 2 * P),
    digitOnTop = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const top = rng.uniform() < 0.5 ? 1 : 0;
    digitOnTop[i] = top;
    const digit = ds.images.subarray(i * P, (i + 1) * P);
    images.set(top ? digit : patch, i * 2 * P);
    images.set(top ? patch : digit, i * 2 * P + P);
  }
  return {
    dataset: { images, labels: ds.labels.slice(0, n), count: n, shape: [1, 56, 28], classes: ds.classes },
    digitOnTop,
  };
}

/** The share of the k elements with the largest |attribution| that lie in the digit's block (1 = all of them). */
export function localisation(a: Attribution, digitOnTop: boolean, k = 100): number {
  const half = a.values.length / 2;
  const order = Array.from({ length: a.values.length }, (_, i) => i).sort(
    (p, q) => Math.abs(a.values[q]) - Math.abs(a.values[p]) || p - q,
  );
  let inside = 0;
  for (let j = 0; j < k; j++) if (order[j] < half === digitOnTop) inside++;
  return inside / k;
}
