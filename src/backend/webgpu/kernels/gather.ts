import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import type { ScatterAddAttrs } from '../../kernel-attrs.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/**
 * Rows of table [V, D] picked by int32 indices. Indices are not checked on the GPU (the ops check them on the CPU
 * side).
 */
export function gatherGpu(b: WebGpuBackend, [table, indices]: readonly Tensor[]): Tensor {
  const [V, D] = table.shape;
  const out = makeTensor(b, [indices.size, D]);
  const { params, groups } = linearLaunch(b, out.size);
  params.u({ V, D });
  const body = 'let row = min(u32(idx[i / p.D]), p.V - 1u); y[i] = t[row * p.D + i % p.D];';
  b.run(
    `${bindings(
      [
        ['t', 'float32'],
        ['idx', 'int32'],
      ],
      [['y', 'float32']],
      params.struct(),
    )}\n${linear(body)}`,
    [table, indices],
    [out],
    params,
    groups,
  );
  return out;
}

/** The adjoint of gather: one thread per output element sums the updates whose index names its row (no atomics). */
export function scatterAddGpu(
  b: WebGpuBackend,
  [updates, indices]: readonly Tensor[],
  { rows }: ScatterAddAttrs,
): Tensor {
  const D = updates.shape[1],
    N = indices.size;
  const out = makeTensor(b, [rows, D]);
  const { params, groups } = linearLaunch(b, out.size);
  params.u({ D, N });
  b.run(
    `${bindings(
      [
        ['u', 'float32'],
        ['idx', 'int32'],
      ],
      [['y', 'float32']],
      params.struct(),
    )}\n${linear(
      `let row = i32(i / p.D); let d = i % p.D; var acc = 0.0;
  for (var n = 0u; n < p.N; n++) { if (idx[n] == row) { acc += u[n * p.D + d]; } }
  y[i] = acc;`,
    )}`,
    [updates, indices],
    [out],
    params,
    groups,
  );
  return out;
}
