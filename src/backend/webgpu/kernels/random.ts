import type { Tensor } from '../../../core/tensor.js';
import type { DropoutMaskAttrs, RandomNormalAttrs, RandomUniformAttrs } from '../../kernel-attrs.js';
import { makeTensor } from '../../engine.js';
import { fillDropoutMask } from '../../js/kernels/random.js';
import type { WebGpuBackend } from '../webgpu-backend.js';

/**
 * Random fills draw from the caller's seeded Rng on the CPU and upload: the same stream as every other
 * backend, so a seed gives the same weights and the same noise on WebGPU as on wasm and js.
 */
function upload(b: WebGpuBackend, shape: number[], values: Float32Array): Tensor {
  const out = makeTensor(b, shape);
  b.write(out.storage, values);
  return out;
}

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

export function randomUniformGpu(b: WebGpuBackend, _: readonly Tensor[], a: RandomUniformAttrs): Tensor {
  return upload(b, a.shape, a.rng.fillUniform(new Float32Array(sizeOf(a.shape)), a.lo, a.hi));
}

export function randomNormalGpu(b: WebGpuBackend, _: readonly Tensor[], a: RandomNormalAttrs): Tensor {
  return upload(b, a.shape, a.rng.fillNormal(new Float32Array(sizeOf(a.shape)), a.mean, a.std));
}

export function dropoutMaskGpu(b: WebGpuBackend, _: readonly Tensor[], a: DropoutMaskAttrs): Tensor {
  return upload(b, a.shape, fillDropoutMask(new Float32Array(sizeOf(a.shape)), a.p, a.rng));
}
