import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { fail } from '../../../core/errors.js';
import type { ScatterAddAttrs } from '../../kernel-attrs.js';
import { f32, i32 } from './views.js';

function checkIndex(v: number, rows: number, at: number, op: string): void {
  if (v < 0 || v >= rows) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: index ${v} at position ${at} is outside [0, ${rows})`,
      'indices must address a row of the table',
    );
  }
}

/** Rows of a table [V, D] picked by int32 indices [N] → [N, D] (embedding lookup). */
export function gatherRef(b: CpuBackend, [table, indices]: readonly Tensor[]): Tensor {
  const [V, D] = table.shape;
  const out = makeTensor(b, [indices.size, D]);
  const T = f32(b, table),
    I = i32(b, indices),
    Y = f32(b, out);
  for (let n = 0; n < I.length; n++) {
    checkIndex(I[n], V, n, 'gather');
    Y.set(T.subarray(I[n] * D, I[n] * D + D), n * D);
  }
  return out;
}

/** The adjoint of gather: updates [N, D] summed into rows [V, D]; repeated indices accumulate. */
export function scatterAddRef(b: CpuBackend, [updates, indices]: readonly Tensor[], { rows }: ScatterAddAttrs): Tensor {
  const D = updates.shape[1];
  const out = makeTensor(b, [rows, D]);
  const U = f32(b, updates),
    I = i32(b, indices),
    Y = f32(b, out);
  Y.fill(0);
  for (let n = 0; n < I.length; n++) {
    checkIndex(I[n], rows, n, 'scatterAdd');
    const o = I[n] * D;
    for (let d = 0; d < D; d++) Y[o + d] += U[n * D + d];
  }
  return out;
}
