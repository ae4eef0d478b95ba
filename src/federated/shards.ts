import { fail } from '../core/errors.js';
import type { ImageDataset } from '../data/dataset.js';

/** A small seeded generator (mulberry32): the same shards on every device that asks for shard i of n. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gamma(k, 1) by Marsaglia–Tsang (k < 1 through the boost k + 1). */
function gamma(k: number, rnd: () => number): number {
  if (k < 1) return gamma(k + 1, rnd) * rnd() ** (1 / k);
  const d = k - 1 / 3,
    c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      const u1 = rnd() || 1e-12,
        u2 = rnd();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rnd();
    if (Math.log(u || 1e-12) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * Shard `index` of `count` of a dataset: with `alpha` (Dirichlet concentration; small = each shard dominated by a
 * few classes, the usual non-IID benchmark split) each class's images are dealt out in Dirichlet proportions; without
 * it, contiguous equal slices. Deterministic in `seed`; shards never overlap.
 */
export function shard(ds: ImageDataset, index: number, count: number, alpha?: number, seed = 1): ImageDataset {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count)
    fail('INVALID_ARGUMENT', `shard ${index}/${count}`, 'pass --shard i/n with 0 ≤ i < n');
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  let chosen: number[] = [];
  if (alpha === undefined) {
    const size = Math.floor(ds.count / count);
    chosen = Array.from({ length: size }, (_, i) => index * size + i);
  } else {
    const rnd = random(seed);
    for (let c = 0; c < ds.classes; c++) {
      const members: number[] = [];
      for (let i = 0; i < ds.count; i++) if (ds.labels[i] === c) members.push(i);
      const g = Array.from({ length: count }, () => gamma(alpha, rnd));
      const total = g.reduce((a, b) => a + b, 0);
      let start = 0;
      for (let s = 0; s < count; s++) {
        const end = s === count - 1 ? members.length : start + Math.round((g[s] / total) * members.length);
        if (s === index) chosen.push(...members.slice(start, Math.min(end, members.length)));
        start = Math.min(end, members.length);
      }
    }
    // interleave classes (a shuffled order) so that a batch is not one class
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
    }
  }
  const images = new Uint8Array(chosen.length * per);
  const labels = new Uint8Array(chosen.length);
  chosen.forEach((src, i) => {
    images.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = ds.labels[src];
  });
  return { images, labels, count: chosen.length, shape: [...ds.shape], classes: ds.classes };
}
