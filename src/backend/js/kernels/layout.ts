import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { stridesOf } from '../../../core/shape.js';
import type { CastAttrs, ConcatAttrs, FillAttrs, SliceAttrs, TransposeAttrs } from '../../kernel-attrs.js';
import { anyView } from './views.js';

/** out[i_perm] = x[i]: output dimension d is input dimension perm[d]. */
export function transposeRef(b: CpuBackend, [x]: readonly Tensor[], { perm }: TransposeAttrs): Tensor {
  const shape = perm.map((p) => x.shape[p]);
  const out = makeTensor(b, shape, x.dtype);
  const X = anyView(b, x),
    Y = anyView(b, out);
  const inStrides = stridesOf(x.shape),
    s = perm.map((p) => inStrides[p]);
  const rank = shape.length,
    idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < Y.length; o++) {
    Y[o] = X[src];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        src += s[d];
        break;
      }
      idx[d] = 0;
      src -= s[d] * (shape[d] - 1);
    }
  }
  return out;
}

export function copyRef(b: CpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape, x.dtype);
  anyView(b, out).set(anyView(b, x));
  return out;
}

/** Overwrites inputs[0]'s elements with inputs[1]'s, in place (optimisers update parameters this way). */
export function assignRef(b: CpuBackend, [target, source]: readonly Tensor[]): Tensor[] {
  anyView(b, target).set(anyView(b, source));
  return [];
}

/** Float to int truncates toward zero; to uint8 also wraps like a typed-array store. */
export function castRef(b: CpuBackend, [x]: readonly Tensor[], { dtype }: CastAttrs): Tensor {
  const out = makeTensor(b, x.shape, dtype);
  const X = anyView(b, x),
    Y = anyView(b, out);
  for (let i = 0; i < X.length; i++) Y[i] = dtype === 'float32' ? X[i] : Math.trunc(X[i]);
  return out;
}

export function fillRef(b: CpuBackend, _: readonly Tensor[], { shape, value, dtype }: FillAttrs): Tensor {
  const out = makeTensor(b, shape, dtype);
  anyView(b, out).fill(value);
  return out;
}

/** Joins tensors along `axis`; all other dimensions agree (the op checks). */
export function concatRef(b: CpuBackend, inputs: readonly Tensor[], { axis }: ConcatAttrs): Tensor {
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((s, t) => s + t.shape[axis], 0);
  const out = makeTensor(b, shape, inputs[0].dtype);
  const Y = anyView(b, out);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const rowOut = Y.length / (outer || 1);
  let at = 0;
  for (const t of inputs) {
    const X = anyView(b, t),
      row = t.size / (outer || 1);
    for (let o = 0; o < outer; o++) Y.set(X.subarray(o * row, o * row + row), o * rowOut + at);
    at += row;
  }
  return out;
}

/** The part [begin, begin + size) of `axis`. */
export function sliceRef(b: CpuBackend, [x]: readonly Tensor[], { axis, begin, size }: SliceAttrs): Tensor {
  const shape = [...x.shape];
  shape[axis] = size;
  const out = makeTensor(b, shape, x.dtype);
  const X = anyView(b, x),
    Y = anyView(b, out);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const rowIn = x.shape[axis] * inner,
    rowOut = size * inner;
  for (let o = 0; o < outer; o++)
    Y.set(X.subarray(o * rowIn + begin * inner, o * rowIn + (begin + size) * inner), o * rowOut);
  return out;
}
