import { runKernel } from '../backend/engine.js';
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../core/tensor.js';
import type { DType } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { fmt, normAxes } from '../core/shape.js';
import { tensor } from './creation.js';

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    fail(
      'INVALID_ARGUMENT',
      `transpose: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`,
      `list each axis 0..${x.rank - 1} once`,
    );
  }
  return runKernel('Transpose', [x], { perm: p })[0];
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail('INVALID_ARGUMENT', 'concat of no tensors', 'pass at least one tensor');
  const ax = normAxes(axis, xs[0].rank, 'concat')[0];
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i]) || t.dtype !== xs[0].dtype) {
      fail(
        'SHAPE_MISMATCH',
        `concat along axis ${ax}: ${t} does not match ${xs[0]}`,
        'all dimensions but the joined one must agree',
      );
    }
  }
  return runKernel('Concat', xs, { axis: ax })[0];
}

export function slice(x: Tensor, axis: number, begin: number, size: number): Tensor {
  const ax = normAxes(axis, x.rank, 'slice')[0];
  if (!Number.isInteger(begin) || !Number.isInteger(size) || begin < 0 || size < 0 || begin + size > x.shape[ax]) {
    fail(
      'INVALID_ARGUMENT',
      `slice: [${begin}, ${begin + size}) is outside axis ${ax} of ${fmt(x.shape)}`,
      'keep the range inside the axis',
    );
  }
  return runKernel('Slice', [x], { axis: ax, begin, size })[0];
}

export const copy = (x: Tensor) => runKernel('Copy', [x])[0];

/** Overwrite `target` in place with `source` (same shape and dtype): parameters keep their identity. */
export function assign(target: Tensor, source: Tensor): void {
  if (target.dtype !== source.dtype || target.size !== source.size) {
    fail(
      'SHAPE_MISMATCH',
      `assign: ${source} cannot overwrite ${target}`,
      "the source needs the target's dtype and element count",
    );
  }
  runKernel('Assign', [target, source]);
}

export function cast(x: Tensor, dtype: DType): Tensor {
  return runKernel('Cast', [x], { dtype })[0];
}

/** The same values on another backend (a read and a write). */
export function toBackend(x: Tensor, backend: Backend): Tensor {
  return x.backend === backend ? copy(x) : tensor(x.dataSync(), x.shape, x.dtype, backend);
}
