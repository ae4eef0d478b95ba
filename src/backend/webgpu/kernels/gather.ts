import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear } from '../wgsl.js';

/**
 * Rows of table [V, D] picked by int32 indices. Indices are not checked on the GPU (the ops check them on the CPU
 * side).
 */
export function gatherGpu(b: WebGpuBackend, [table, indices]: readonly Tensor[]): Tensor {
  const [V, D] = table.shape;
  const out = makeTensor(b, [indices.size, D]);
  const { groups, stride } = b.grid(out.size, 256);
  const body = `let row = min(u32(idx[i / ${D}u]), ${V - 1}u); y[i] = t[row * ${D}u + i % ${D}u];`;
  b.run(
    `${bindings(
      [
        ['t', 'float32'],
        ['idx', 'int32'],
      ],
      [['y', 'float32']],
    )}\n${linear(body, out.size, stride)}`,
    [table, indices],
    [out],
    null,
    groups,
  );
  return out;
}

/** The adjoint of gather: one thread per output element sums the updates whose index names its row (no atomics). */
export function scatterAddGpu(
  b: WebGpuBackend,
  [updates, indices]: readonly Tensor[],
  { rows }: { rows: number },
): Tensor {
  const D = updates.shape[1],
    N = indices.size;
  const out = makeTensor(b, [rows, D]);
  const { groups, stride } = b.grid(out.size, 256);
  b.run(
    `${bindings(
      [
        ['u', 'float32'],
        ['idx', 'int32'],
      ],
      [['y', 'float32']],
    )}\n${linear(
      `let row = i32(i / ${D}u); let d = i % ${D}u; var acc = 0.0;
  for (var n = 0u; n < ${N}u; n++) { if (idx[n] == row) { acc += u[n * ${D}u + d]; } }
  y[i] = acc;`,
      out.size,
      stride,
    )}`,
    [updates, indices],
    [out],
    null,
    groups,
  );
  return out;
}
