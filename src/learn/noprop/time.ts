import type { Backend } from '../../backend/backend.js';
import type { Tensor } from '../../core/tensor.js';
import type { Rng } from '../../core/rng.js';
import { tensor } from '../../ops/index.js';

export const TIME_EMBED_DIM = 64;

/** Sinusoidal embedding of t ∈ [0, 1] (Transformer-style frequencies 1 … 1/1000, scaled by 1000). */
export function timeEmbedding(ts: Float32Array, backend: Backend, dim = TIME_EMBED_DIM): Tensor {
  const half = dim / 2,
    out = new Float32Array(ts.length * dim);
  for (let i = 0; i < ts.length; i++) {
    for (let k = 0; k < half; k++) {
      const w = 1000 * ts[i] * 1000 ** (-k / half);
      out[i * dim + k] = Math.sin(w);
      out[i * dim + half + k] = Math.cos(w);
    }
  }
  return tensor(out, [ts.length, dim], 'float32', backend);
}

/** One t ~ U(0, 1) per sample. */
export function sampleTimes(n: number, rng: Rng): Float32Array {
  return rng.fillUniform(new Float32Array(n));
}
