import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import type { Rng } from '../../../core/rng.js';
import type { DropoutMaskAttrs, RandomNormalAttrs, RandomUniformAttrs } from '../../kernel-attrs.js';
import { makeTensor } from '../../engine.js';
import { f32 } from './views.js';

/** Random numbers come from the caller's seeded Rng, so every CPU backend draws identical values. */
export function randomUniformRef(b: CpuBackend, _: readonly Tensor[], a: RandomUniformAttrs): Tensor {
  const out = makeTensor(b, a.shape);
  a.rng.fillUniform(f32(b, out), a.lo, a.hi);
  return out;
}

export function randomNormalRef(b: CpuBackend, _: readonly Tensor[], a: RandomNormalAttrs): Tensor {
  const out = makeTensor(b, a.shape);
  a.rng.fillNormal(f32(b, out), a.mean, a.std);
  return out;
}

/** Inverted dropout: each element kept with probability 1 − p and scaled by 1 / (1 − p). */
export function fillDropoutMask(M: Float32Array, p: number, rng: Rng): Float32Array {
  const scale = p < 1 ? 1 / (1 - p) : 0;
  for (let i = 0; i < M.length; i++) M[i] = rng.uniform() >= p ? scale : 0;
  return M;
}

export function dropoutMaskRef(b: CpuBackend, _: readonly Tensor[], a: DropoutMaskAttrs): Tensor {
  const out = makeTensor(b, a.shape);
  fillDropoutMask(f32(b, out), a.p, a.rng);
  return out;
}
