/** Small synthetic datasets and configs for the unlearning tests. */
import { Rng } from '../../../../src/core/rng.js';
import type { ImageDataset } from '../../../../src/data/dataset.js';
import type { RuleConfig } from '../../../../src/learn/create.js';

/** `count` 2×2 images of `classes` classes, pixels drawn around a class-dependent pattern (learnable). */
export function tinyData(count: number, seed: number, classes = 3): ImageDataset {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 4),
    labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let k = 0; k < 4; k++) {
      const base = k === c ? 200 : 60;
      images[i * 4 + k] = Math.max(0, Math.min(255, Math.round(base + 50 * rng.normal())));
    }
  }
  return { images, labels, count, shape: [1, 2, 2], classes };
}

/** A 4 → 5 (tanh) → 3 network: small enough to restate in float64. */
export const tinyConfig = (rule: RuleConfig['rule'] = 'backprop', seed = 3): RuleConfig => ({
  rule,
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 5 }, { type: 'tanh' }, { type: 'dense', units: 3 }],
  inputShape: [1, 2, 2],
  classes: 3,
  optimizer: { type: 'adam', lr: 1e-2 },
  seed,
  streams: 'named',
});
