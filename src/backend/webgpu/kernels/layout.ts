import type { Tensor } from '../../../core/tensor.js';
import type { DType } from '../../../core/dtype.js';
import { makeTensor } from '../../engine.js';
import { stridesOf } from '../../../core/shape.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { Params } from '../webgpu-backend.js';
import { bindings, linear, wgslType } from '../wgsl.js';

/** y[i] = x[<index expression of i>] over n elements, any dtype. */
function gatherCopy(b: WebGpuBackend, x: Tensor, out: Tensor, n: number, index: string, into = 'i'): void {
  const { groups, stride } = b.grid(n, 256);
  b.run(
    `${bindings([['x', x.dtype]], [['y', out.dtype]])}\n${linear(`y[${into}] = x[${index}];`, n, stride)}`,
    [x],
    [out],
    null,
    groups,
  );
}

export function transposeGpu(b: WebGpuBackend, [x]: readonly Tensor[], { perm }: { perm: number[] }): Tensor {
  const shape = perm.map((p) => x.shape[p]);
  const out = makeTensor(b, shape, x.dtype);
  const os = stridesOf(shape),
    is = stridesOf(x.shape);
  const index = shape.map((d, k) => `((i / ${os[k]}u) % ${d}u) * ${is[perm[k]]}u`).join(' + ') || '0u';
  gatherCopy(b, x, out, out.size, index);
  return out;
}

export function copyGpu(b: WebGpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape, x.dtype);
  gatherCopy(b, x, out, x.size, 'i');
  return out;
}

export function assignGpu(b: WebGpuBackend, [target, source]: readonly Tensor[]): Tensor[] {
  gatherCopy(b, source, target, source.size, 'i');
  return [];
}

/** Float to int truncates toward zero; to uint8 also wraps like a typed-array store (as the reference). */
export function castGpu(b: WebGpuBackend, [x]: readonly Tensor[], { dtype }: { dtype: DType }): Tensor {
  const out = makeTensor(b, x.shape, dtype);
  const from = wgslType(x.dtype),
    to = wgslType(dtype);
  const v = 'x[i]';
  const expr =
    to === 'f32'
      ? `f32(${v})`
      : from === 'f32'
        ? to === 'i32'
          ? `i32(trunc(${v}))`
          : `u32(i32(trunc(${v}))) & 255u`
        : to === 'i32'
          ? `i32(${v})`
          : `u32(${v}) & 255u`;
  const { groups, stride } = b.grid(x.size, 256);
  b.run(
    `${bindings([['x', x.dtype]], [['y', dtype]])}\n${linear(`y[i] = ${expr};`, x.size, stride)}`,
    [x],
    [out],
    null,
    groups,
  );
  return out;
}

export function fillGpu(
  b: WebGpuBackend,
  _: readonly Tensor[],
  { shape, value, dtype }: { shape: number[]; value: number; dtype: DType },
): Tensor {
  const out = makeTensor(b, shape, dtype);
  const { groups, stride } = b.grid(out.size, 256);
  const t = wgslType(dtype);
  const params = new Params();
  if (t === 'f32') params.f(value);
  else if (t === 'i32') params.i(value);
  else params.u(value & 255);
  b.run(
    `${bindings([], [['y', dtype]], `value: ${t}`)}\n${linear('y[i] = p.value;', out.size, stride)}`,
    [],
    [out],
    params,
    groups,
  );
  return out;
}

export function concatGpu(b: WebGpuBackend, inputs: readonly Tensor[], { axis }: { axis: number }): Tensor {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  const out = makeTensor(b, shape, inputs[0].dtype);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const rowOut = out.size / (outer || 1);
  let at = 0;
  for (const t of inputs) {
    const row = t.size / (outer || 1);
    if (t.size) gatherCopy(b, t, out, t.size, 'i', `(i / ${row}u) * ${rowOut}u + ${at}u + i % ${row}u`);
    at += row;
  }
  return out;
}

export function sliceGpu(
  b: WebGpuBackend,
  [x]: readonly Tensor[],
  { axis, begin, size }: { axis: number; begin: number; size: number },
): Tensor {
  const shape = [...x.shape];
  shape[axis] = size;
  const out = makeTensor(b, shape, x.dtype);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const rowIn = x.shape[axis] * inner,
    rowOut = size * inner;
  if (out.size) gatherCopy(b, x, out, out.size, `(i / ${rowOut}u) * ${rowIn}u + ${begin * inner}u + i % ${rowOut}u`);
  return out;
}
