import type { Tensor } from '../../../core/tensor.js';
import type { CastAttrs, ConcatAttrs, FillAttrs, SliceAttrs, TransposeAttrs } from '../../kernel-attrs.js';
import { makeTensor } from '../../engine.js';
import { stridesOf } from '../../../core/shape.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch, wgslType } from '../wgsl.js';

/**
 * y[into] = x[index] over n elements, any dtype; `index` and `into` are WGSL of i and of the uniforms in `fields`
 * (sizes and offsets, so one pipeline serves every shape).
 */
function gatherCopy(
  b: WebGpuBackend,
  x: Tensor,
  out: Tensor,
  n: number,
  index: string,
  fields: Record<string, number> = {},
  into = 'i',
): void {
  const { params, groups } = linearLaunch(b, n);
  params.u(fields);
  b.run(
    `${bindings([['x', x.dtype]], [['y', out.dtype]], params.struct())}\n${linear(`y[${into}] = x[${index}];`)}`,
    [x],
    [out],
    params,
    groups,
  );
}

export function transposeGpu(b: WebGpuBackend, [x]: readonly Tensor[], { perm }: TransposeAttrs): Tensor {
  const shape = perm.map((p) => x.shape[p]);
  const out = makeTensor(b, shape, x.dtype);
  const os = stridesOf(shape),
    is = stridesOf(x.shape);
  const fields: Record<string, number> = {};
  shape.forEach((d, k) => {
    fields[`os${k}`] = os[k];
    fields[`d${k}`] = d;
    fields[`is${k}`] = is[perm[k]];
  });
  const index = shape.map((_, k) => `((i / p.os${k}) % p.d${k}) * p.is${k}`).join(' + ') || '0u';
  gatherCopy(b, x, out, out.size, index, fields);
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
export function castGpu(b: WebGpuBackend, [x]: readonly Tensor[], { dtype }: CastAttrs): Tensor {
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
  const { params, groups } = linearLaunch(b, x.size);
  b.run(
    `${bindings([['x', x.dtype]], [['y', dtype]], params.struct())}\n${linear(`y[i] = ${expr};`)}`,
    [x],
    [out],
    params,
    groups,
  );
  return out;
}

export function fillGpu(b: WebGpuBackend, _: readonly Tensor[], { shape, value, dtype }: FillAttrs): Tensor {
  const out = makeTensor(b, shape, dtype);
  const { params, groups } = linearLaunch(b, out.size);
  const t = wgslType(dtype);
  if (t === 'f32') params.f({ value });
  else if (t === 'i32') params.i({ value });
  else params.u({ value: value & 255 });
  b.run(`${bindings([], [['y', dtype]], params.struct())}\n${linear('y[i] = p.value;')}`, [], [out], params, groups);
  return out;
}

export function concatGpu(b: WebGpuBackend, inputs: readonly Tensor[], { axis }: ConcatAttrs): Tensor {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  const out = makeTensor(b, shape, inputs[0].dtype);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const rowOut = out.size / (outer || 1);
  let at = 0;
  for (const t of inputs) {
    const row = t.size / (outer || 1);
    if (t.size) gatherCopy(b, t, out, t.size, 'i', { row, rowOut, at }, '(i / p.row) * p.rowOut + p.at + i % p.row');
    at += row;
  }
  return out;
}

export function sliceGpu(b: WebGpuBackend, [x]: readonly Tensor[], { axis, begin, size }: SliceAttrs): Tensor {
  const shape = [...x.shape];
  shape[axis] = size;
  const out = makeTensor(b, shape, x.dtype);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const rowIn = x.shape[axis] * inner,
    rowOut = size * inner;
  const fields = { rowOut, rowIn, start: begin * inner };
  if (out.size) gatherCopy(b, x, out, out.size, '(i / p.rowOut) * p.rowIn + p.start + i % p.rowOut', fields);
  return out;
}
