import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import type { Rng } from '../../core/rng.js';
import { keep } from '../../core/scope.js';
import { fail } from '../../core/errors.js';
import { randomNormal, tensor } from '../../ops/index.js';

export const embeddingKinds = ['onehot', 'learned', 'prototype'] as const;
export type EmbeddingKind = (typeof embeddingKinds)[number];

/**
 * The label embedding W [classes, d]: u_y is row y. 'onehot' is the identity (d = classes, fixed),
 * 'learned' a trainable matrix (d given), 'prototype' one fixed example image per class (d = pixels).
 */
export function makeEmbedding(kind: EmbeddingKind, classes: number, backend: Backend, rng: Rng,
  opts: { dim?: number; prototypes?: Float32Array } = {}): { table: Tensor; trainable: boolean } {
  switch (kind) {
    case 'onehot': {
      const eye = new Float32Array(classes * classes);
      for (let c = 0; c < classes; c++) eye[c * classes + c] = 1;
      return { table: keep(tensor(eye, [classes, classes], 'float32', backend)), trainable: false };
    }
    case 'learned': {
      const d = opts.dim ?? 20;
      return { table: keep(randomNormal([classes, d], rng, 0, 1 / Math.sqrt(d), backend)), trainable: true };
    }
    case 'prototype': {
      const p = opts.prototypes;
      if (!p || p.length % classes !== 0) {
        fail('INVALID_ARGUMENT', 'prototype embeddings need one image per class', 'pass prototypes (classes × pixels), e.g. from classPrototypes(dataset)');
      }
      return { table: keep(tensor(p, [classes, p.length / classes], 'float32', backend)), trainable: false };
    }
  }
}
