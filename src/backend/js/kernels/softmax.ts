import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import { f32, i32 } from './views.js';

/** Row-wise over the last axis, shifted by the row maximum for stability. */
function rows(
  x: Tensor,
  f: (X: Float32Array, Y: Float32Array, off: number, cols: number) => void,
  X: Float32Array,
  Y: Float32Array,
): void {
  const cols = x.shape[x.rank - 1];
  for (let off = 0; off < X.length; off += cols) f(X, Y, off, cols);
}

function logSumExp(X: Float32Array, off: number, cols: number): number {
  let m = -Infinity;
  for (let j = 0; j < cols; j++) m = Math.max(m, X[off + j]);
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(X[off + j] - m);
  return m + Math.log(s);
}

export function softmaxRef(b: CpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape);
  rows(
    x,
    (X, Y, off, cols) => {
      const lse = logSumExp(X, off, cols);
      for (let j = 0; j < cols; j++) Y[off + j] = Math.exp(X[off + j] - lse);
    },
    f32(b, x),
    f32(b, out),
  );
  return out;
}

export function logSoftmaxRef(b: CpuBackend, [x]: readonly Tensor[]): Tensor {
  const out = makeTensor(b, x.shape);
  rows(
    x,
    (X, Y, off, cols) => {
      const lse = logSumExp(X, off, cols);
      for (let j = 0; j < cols; j++) Y[off + j] = X[off + j] - lse;
    },
    f32(b, x),
    f32(b, out),
  );
  return out;
}

/** Per-sample loss −log softmax(logits)[label]; logits [B, C], labels int32 [B]. */
export function crossEntropyRef(b: CpuBackend, [logits, labels]: readonly Tensor[]): Tensor {
  const [B, C] = logits.shape;
  const out = makeTensor(b, [B]);
  const X = f32(b, logits),
    L = i32(b, labels),
    Y = f32(b, out);
  for (let r = 0; r < B; r++) Y[r] = logSumExp(X, r * C, C) - X[r * C + L[r]];
  return out;
}

/** d loss / d logits = (softmax − onehot) · dLoss[r]; inputs logits, labels, dLoss [B]. */
export function crossEntropyGradRef(b: CpuBackend, [logits, labels, dLoss]: readonly Tensor[]): Tensor {
  const [B, C] = logits.shape;
  const out = makeTensor(b, logits.shape);
  const X = f32(b, logits),
    L = i32(b, labels),
    G = f32(b, dLoss),
    Y = f32(b, out);
  for (let r = 0; r < B; r++) {
    const lse = logSumExp(X, r * C, C);
    for (let j = 0; j < C; j++) Y[r * C + j] = (Math.exp(X[r * C + j] - lse) - (j === L[r] ? 1 : 0)) * G[r];
  }
  return out;
}
