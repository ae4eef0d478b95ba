import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { f32, i32 } from './views.js';
import { stridesOf } from '../../../core/shape.js';
import type { ArgmaxAttrs, ReduceAttrs } from '../../kernel-attrs.js';
import { reducedShape } from '../../shapes.js';

/** For each input element in order, the flat index of the output element it reduces into. */
function outputIndexer(
  shape: readonly number[],
  axes: readonly number[],
): (visit: (inFlat: number, outFlat: number) => void) => void {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const ks = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
  return (visit) => {
    const rank = shape.length,
      idx = new Array<number>(rank).fill(0);
    let o = 0,
      n = 1;
    for (const d of shape) n *= d;
    for (let i = 0; i < n; i++) {
      visit(i, o);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          o += ks[d];
          break;
        }
        idx[d] = 0;
        o -= ks[d] * (shape[d] - 1);
      }
    }
  };
}

export function sumRef(b: CpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, axes, keepDims));
  const X = f32(b, x),
    Y = f32(b, out),
    acc = new Float64Array(Y.length);
  outputIndexer(
    x.shape,
    axes,
  )((i, o) => {
    acc[o] += X[i];
  });
  Y.set(acc);
  return out;
}

export function maxRef(b: CpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, axes, keepDims));
  const X = f32(b, x),
    Y = f32(b, out);
  Y.fill(-Infinity);
  outputIndexer(
    x.shape,
    axes,
  )((i, o) => {
    if (X[i] > Y[o] || Number.isNaN(X[i])) Y[o] = X[i];
  });
  return out;
}

/** Index of the first maximum along one axis; int32 output. */
export function argmaxRef(b: CpuBackend, [x]: readonly Tensor[], { axis, keepDims }: ArgmaxAttrs): Tensor {
  const out = makeTensor(b, reducedShape(x.shape, [axis], keepDims), 'int32');
  const X = f32(b, x),
    Y = i32(b, out);
  const len = x.shape[axis],
    inner = stridesOf(x.shape)[axis],
    outer = x.size / (len * inner || 1);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      let best = -Infinity,
        at = 0;
      for (let k = 0; k < len; k++) {
        const v = X[(o * len + k) * inner + j];
        if (v > best) {
          best = v;
          at = k;
        }
      }
      Y[o * inner + j] = at;
    }
  return out;
}

/** Mean and biased variance over `axes` (batch-norm statistics), two-pass for accuracy. */
export function momentsRef(b: CpuBackend, [x]: readonly Tensor[], { axes, keepDims }: ReduceAttrs): Tensor[] {
  const shape = reducedShape(x.shape, axes, keepDims);
  const mean = makeTensor(b, shape),
    variance = makeTensor(b, shape);
  const X = f32(b, x),
    M = f32(b, mean),
    V = f32(b, variance);
  const sum = new Float64Array(M.length),
    sq = new Float64Array(M.length);
  const count = axes.reduce((p, a) => p * x.shape[a], 1);
  const visit = outputIndexer(x.shape, axes);
  visit((i, o) => {
    sum[o] += X[i];
  });
  for (let o = 0; o < sum.length; o++) sum[o] /= count;
  visit((i, o) => {
    const d = X[i] - sum[o];
    sq[o] += d * d;
  });
  for (let o = 0; o < sum.length; o++) {
    M[o] = sum[o];
    V[o] = sq[o] / count;
  }
  return [mean, variance];
}
