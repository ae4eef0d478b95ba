import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/select.js';
import { runKernel } from '../backend/engine.js';
import { Tensor } from '../core/tensor.js';
import { arrayFor, dtypeOf, type DType, type TypedArray } from '../core/dtype.js';
import { checkShape, fmt, sizeOf, type Shape } from '../core/shape.js';
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** A tensor from values (a typed array or numbers), on `backend` or the current default. */
export function tensor(
  values: TypedArray | readonly number[],
  shape?: Shape,
  dtype?: DType,
  backend?: Backend,
): Tensor {
  const dt = dtype ?? (Array.isArray(values) ? 'float32' : dtypeOf(values as TypedArray));
  const s = shape ?? [values.length];
  checkShape(s);
  if (sizeOf(s) !== values.length) {
    fail(
      'SHAPE_MISMATCH',
      `${values.length} values do not fill shape ${fmt(s)} (${sizeOf(s)} elements)`,
      'pass as many values as the shape holds',
    );
  }
  const b = backend ?? getBackend();
  const storage = b.alloc(values.length, dt);
  const data =
    Array.isArray(values) || dtypeOf(values as TypedArray) !== dt
      ? arrayFor(dt, values.length)
      : (values as TypedArray);
  if (data !== values) for (let i = 0; i < values.length; i++) data[i] = (values as ArrayLike<number>)[i];
  b.write(storage, data);
  return new Tensor(b, storage, s);
}

export function fill(shape: Shape, value: number, dtype: DType = 'float32', backend?: Backend): Tensor {
  checkShape(shape);
  return runKernel('Fill', [], { shape: [...shape], value, dtype }, backend ?? getBackend())[0];
}

export const zeros = (shape: Shape, dtype: DType = 'float32', backend?: Backend) => fill(shape, 0, dtype, backend);
export const ones = (shape: Shape, dtype: DType = 'float32', backend?: Backend) => fill(shape, 1, dtype, backend);

export function randomUniform(shape: Shape, rng: Rng, lo = 0, hi = 1, backend?: Backend): Tensor {
  checkShape(shape);
  return runKernel('RandomUniform', [], { shape: [...shape], lo, hi, rng }, backend ?? getBackend())[0];
}

export function randomNormal(shape: Shape, rng: Rng, mean = 0, std = 1, backend?: Backend): Tensor {
  checkShape(shape);
  return runKernel('RandomNormal', [], { shape: [...shape], mean, std, rng }, backend ?? getBackend())[0];
}

/** Inverted-dropout mask: 0 with probability p, else 1 / (1 − p). */
export function dropoutMask(shape: Shape, p: number, rng: Rng, backend?: Backend): Tensor {
  if (!(p >= 0 && p < 1)) fail('INVALID_ARGUMENT', `dropout rate ${p} is outside [0, 1)`, 'use a rate such as 0.2');
  checkShape(shape);
  return runKernel('DropoutMask', [], { shape: [...shape], p, rng }, backend ?? getBackend())[0];
}
