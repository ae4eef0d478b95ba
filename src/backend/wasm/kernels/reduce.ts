import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { ReduceAttrs } from '../../kernel-attrs.js';
import { reducedShape } from '../../shapes.js';
import { maxRef, momentsRef, sumRef } from '../../js/kernels/reduce.js';
import { binaryCodes } from '../exports.js';
import { logSoftmaxRef, softmaxRef } from '../../js/kernels/softmax.js';
import type { WasmBackend } from '../wasm-backend.js';
import { LINE, splitRun } from './split-run.js';

/**
 * A row kernel (x, y, rows, cols) over `rows` rows of `cols` values, writing `yCols` values a row; with threads and
 * a large x, each thread takes a range of rows (one value a row: ranges on 64-byte lines of y).
 */
function rowsRun(
  b: WasmBackend,
  fn: 'sumRows' | 'maxRows' | 'softmaxRows' | 'logSoftmaxRows',
  x: number,
  y: number,
  rows: number,
  cols: number,
  yCols: number,
): void {
  const call = (r0: number, r1: number) => [x + 4 * r0 * cols, y + 4 * r0 * yCols, r1 - r0, cols];
  splitRun(b, fn, rows * cols, rows, yCols === 1 ? LINE : 1, call);
}

/** Split x at the reduced axes when they form one block at the end (rows) or at the start (cols). */
function split(shape: readonly number[], axes: readonly number[]) {
  const n = shape.length,
    k = axes.length;
  const size = shape.reduce((p, d) => p * d, 1);
  const span = axes.reduce((p, a) => p * shape[a], 1);
  const trailing = axes.every((a, i) => a === n - k + i);
  const leading = axes.every((a, i) => a === i);
  return { trailing, leading, span, rest: span === 0 ? 0 : size / span };
}

/**
 * When the kept axes are one contiguous block, x is [outer, mid, inner] with mid kept: the layout of
 * per-feature ([N, F] over axis 0) and per-channel ([N, C, H, W] over 0, 2, 3) statistics.
 */
function keptBlock(shape: readonly number[], axes: readonly number[]) {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  if (kept.length === 0 || kept.some((k, i) => k !== kept[0] + i)) return null;
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((p, d) => p * d, 1);
  const k0 = kept[0],
    k1 = kept[kept.length - 1] + 1;
  return { outer: prod(0, k0), mid: prod(k0, k1), inner: prod(k1, shape.length) };
}

/** y[m] = Σ_o Σ_i x[o, m, i]: row sums over inner, then column sums over outer (a scratch block between). */
function sumOuterInner(b: WasmBackend, x: number, y: number, outer: number, mid: number, inner: number): void {
  const rows = inner === 1 ? x : b.scratchPtr(outer * mid * 4, 2);
  if (inner !== 1) b.k.sumRows(x, rows, outer * mid, inner);
  if (outer === 1) b.heapF32().copyWithin(y >> 2, rows >> 2, (rows >> 2) + mid);
  else b.k.sumCols(rows, y, outer, mid);
}

export function sumWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: ReduceAttrs): Tensor {
  const [x] = inputs;
  const s = split(x.shape, attrs.axes),
    block = keptBlock(x.shape, attrs.axes);
  if (s.span === 0 || (!s.trailing && !s.leading && !block)) return sumRef(b, inputs, attrs);
  const out = makeTensor(b, reducedShape(x.shape, attrs.axes, attrs.keepDims));
  if (s.trailing) rowsRun(b, 'sumRows', b.ptr(x.storage), b.ptr(out.storage), s.rest, s.span, 1);
  else if (s.leading) b.k.sumCols(b.ptr(x.storage), b.ptr(out.storage), s.span, s.rest);
  else sumOuterInner(b, b.ptr(x.storage), b.ptr(out.storage), block!.outer, block!.mid, block!.inner);
  return out;
}

/** Mean and biased variance over [outer, inner] per kept feature: two passes, as the reference does. */
export function momentsWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: ReduceAttrs): Tensor[] {
  const [x] = inputs;
  const block = keptBlock(x.shape, attrs.axes);
  if (!block || x.size === 0) return momentsRef(b, inputs, attrs);
  const { outer, mid, inner } = block,
    count = outer * inner,
    shape = reducedShape(x.shape, attrs.axes, attrs.keepDims);
  const mean = makeTensor(b, shape),
    variance = makeTensor(b, shape),
    centered = makeTensor(b, x.shape);
  const px = b.ptr(x.storage),
    pm = b.ptr(mean.storage),
    pv = b.ptr(variance.storage),
    pc = b.ptr(centered.storage);
  sumOuterInner(b, px, pm, outer, mid, inner);
  b.k.binaryScalar(binaryCodes.mul, pm, 1 / count, pm, mid);
  if (inner === 1) b.k.binaryRow(binaryCodes.sub, px, pm, pc, outer, mid);
  else b.k.binaryMid(binaryCodes.sub, px, pm, pc, outer, mid, inner);
  b.k.binary(binaryCodes.mul, pc, pc, pc, x.size);
  sumOuterInner(b, pc, pv, outer, mid, inner);
  b.k.binaryScalar(binaryCodes.mul, pv, 1 / count, pv, mid);
  centered.dispose();
  return [mean, variance];
}

export function maxWasm(b: WasmBackend, inputs: readonly Tensor[], attrs: ReduceAttrs): Tensor {
  const [x] = inputs;
  const s = split(x.shape, attrs.axes);
  if (s.span === 0 || !s.trailing) return maxRef(b, inputs, attrs);
  const out = makeTensor(b, reducedShape(x.shape, attrs.axes, attrs.keepDims));
  rowsRun(b, 'maxRows', b.ptr(x.storage), b.ptr(out.storage), s.rest, s.span, 1);
  return out;
}

function rowsOp(name: 'softmaxRows' | 'logSoftmaxRows') {
  const fallback = name === 'softmaxRows' ? softmaxRef : logSoftmaxRef;
  return (b: WasmBackend, inputs: readonly Tensor[]): Tensor => {
    const [x] = inputs;
    const cols = x.shape[x.rank - 1] ?? 1;
    if (x.rank === 0 || cols === 0) return fallback(b, inputs);
    const out = makeTensor(b, x.shape);
    rowsRun(b, name, b.ptr(x.storage), b.ptr(out.storage), x.size / cols, cols, cols);
    return out;
  };
}

export const softmaxWasm = rowsOp('softmaxRows');
export const logSoftmaxWasm = rowsOp('logSoftmaxRows');
