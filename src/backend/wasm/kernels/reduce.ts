import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { maxRef, reducedShape, sumRef, type ReduceAttrs } from '../../js/kernels/reduce.js';
import { logSoftmaxRef, softmaxRef } from '../../js/kernels/softmax.js';
import type { WasmBackend } from '../wasm-backend.js';

/** Split x at the reduced axes when they form one block at the end (rows) or at the start (cols). */
function split(shape: readonly number[], axes: readonly number[]) {
  const n = shape.length, k = axes.length;
  const size = shape.reduce((p, d) => p * d, 1);
  const span = axes.reduce((p, a) => p * shape[a], 1);
  const trailing = axes.every((a, i) => a === n - k + i);
  const leading = axes.every((a, i) => a === i);
  return { trailing, leading, span, rest: span === 0 ? 0 : size / span };
}

export function sumWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: ReduceAttrs): Tensor {
  const [x] = inputs;
  const s = split(x.shape, attrs.axes);
  if (s.span === 0 || (!s.trailing && !s.leading)) return sumRef(b, inputs, attrs);
  const out = makeTensor(b, reducedShape(x.shape, attrs.axes, attrs.keepDims));
  if (s.trailing) b.k.sumRows(b.ptr(x.storage), b.ptr(out.storage), s.rest, s.span);
  else b.k.sumCols(b.ptr(x.storage), b.ptr(out.storage), s.span, s.rest);
  return out;
}

export function maxWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: ReduceAttrs): Tensor {
  const [x] = inputs;
  const s = split(x.shape, attrs.axes);
  if (s.span === 0 || !s.trailing) return maxRef(b, inputs, attrs);
  const out = makeTensor(b, reducedShape(x.shape, attrs.axes, attrs.keepDims));
  b.k.maxRows(b.ptr(x.storage), b.ptr(out.storage), s.rest, s.span);
  return out;
}

function rowsOp(name: 'softmaxRows' | 'logSoftmaxRows') {
  const fallback = name === 'softmaxRows' ? softmaxRef : logSoftmaxRef;
  return (b: WasmBackend, inputs: readonly Tensor[]): Tensor => {
    const [x] = inputs;
    const cols = x.shape[x.rank - 1] ?? 1;
    if (x.rank === 0 || cols === 0) return fallback(b, inputs);
    const out = makeTensor(b, x.shape);
    b.k[name](b.ptr(x.storage), b.ptr(out.storage), x.size / cols, cols);
    return out;
  };
}

export const softmaxWasm = rowsOp('softmaxRows');
export const logSoftmaxWasm = rowsOp('logSoftmaxRows');
