import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import type { Rng } from '../../core/rng.js';
import { keep } from '../../core/scope.js';
import { fail } from '../../core/errors.js';
import { randomNormal, tensor } from '../../ops/index.js';
import type { ImageDataset } from '../../data/dataset.js';
import { MNIST_NORMALIZATION, normalizePixels, type Normalization } from '../../data/batches.js';

export const embeddingKinds = ['onehot', 'learned', 'prototype'] as const;
export type EmbeddingKind = (typeof embeddingKinds)[number];

/**
 * The label embedding W [classes, d]: u_y is row y. 'onehot' is the identity (d = classes, fixed),
 * 'learned' a trainable matrix (d given), 'prototype' one fixed example image per class (d = pixels).
 */
export function makeEmbedding(
  kind: EmbeddingKind,
  classes: number,
  backend: Backend,
  rng: Rng,
  opts: { dim?: number; prototypes?: ArrayLike<number> } = {},
): { table: Tensor; trainable: boolean } {
  switch (kind) {
    case 'onehot': {
      const eye = new Float32Array(classes * classes);
      for (let c = 0; c < classes; c++) eye[c * classes + c] = 1;
      return { table: keep(tensor(eye, [classes, classes], 'float32', backend)), trainable: false };
    }
    case 'learned': {
      const d = opts.dim ?? 20;
      if (!(Number.isInteger(d) && d > 0))
        fail(
          'INVALID_ARGUMENT',
          `a learned label embedding needs a positive integer dimension, not ${d}`,
          'set embedDim to a positive integer (default 20)',
        );
      return { table: keep(randomNormal([classes, d], rng, 0, 1 / Math.sqrt(d), backend)), trainable: true };
    }
    case 'prototype': {
      const p = opts.prototypes;
      if (!p || p.length === 0 || p.length % classes !== 0) {
        fail(
          'INVALID_ARGUMENT',
          'prototype embeddings need one image per class',
          'pass prototypes (classes × pixels), e.g. from classPrototypes(dataset)',
        );
      }
      return {
        table: keep(tensor(Float32Array.from(p), [classes, p.length / classes], 'float32', backend)),
        trainable: false,
      };
    }
    default:
      return fail(
        'INVALID_ARGUMENT',
        `unknown label embedding ${JSON.stringify(kind)}`,
        `use one of: ${embeddingKinds.join(', ')}`,
      );
  }
}

/**
 * One prototype image per class: the training image nearest (in normalised pixels) to its class mean,
 * as a [classes × pixels] table for the 'prototype' embedding.
 */
export function classPrototypes(ds: ImageDataset, normalization: Normalization = MNIST_NORMALIZATION): Float32Array {
  const pixels = ds.shape.reduce((p, d) => p * d, 1),
    C = ds.classes;
  const mean = new Float64Array(C * pixels),
    count = new Float64Array(C);
  for (let i = 0; i < ds.count; i++) {
    const c = ds.labels[i];
    count[c]++;
    for (let k = 0; k < pixels; k++) mean[c * pixels + k] += ds.images[i * pixels + k];
  }
  for (let c = 0; c < C; c++) {
    if (!count[c])
      fail(
        'DATA_INVALID',
        `class ${c} has no training images`,
        'prototype embeddings need at least one image of every class',
      );
    for (let k = 0; k < pixels; k++) mean[c * pixels + k] /= count[c];
  }
  const best = new Float64Array(C).fill(Infinity),
    at = new Int32Array(C);
  for (let i = 0; i < ds.count; i++) {
    const c = ds.labels[i];
    let d = 0;
    for (let k = 0; k < pixels; k++) {
      const e = ds.images[i * pixels + k] - mean[c * pixels + k];
      d += e * e;
    }
    if (d < best[c]) {
      best[c] = d;
      at[c] = i;
    }
  }
  const out = new Float32Array(C * pixels);
  for (let c = 0; c < C; c++)
    normalizePixels(
      ds.images.subarray(at[c] * pixels, (at[c] + 1) * pixels),
      normalization,
      out.subarray(c * pixels, (c + 1) * pixels),
    );
  return out;
}
