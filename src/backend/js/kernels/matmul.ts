import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { MatMulAttrs } from '../../kernel-attrs.js';
import { f32 } from './views.js';

/**
 * Inputs are rank 3: a [Ba, M, K] (or [Ba, K, M] transposed), b [Bb, K, N] (or [Bb, N, K]), with Ba = Bb or
 * one of them 1 (broadcast). Output [max(Ba, Bb), M, N]. Accumulates in float64: this is the oracle.
 */
export function matMulRef(b: CpuBackend, [x, y]: readonly Tensor[], { transposeA, transposeB }: MatMulAttrs): Tensor {
  const [ba, ar, ac] = x.shape;
  const [bb, br, bc] = y.shape;
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac,
    N = transposeB ? br : bc;
  const B = Math.max(ba, bb);
  const out = makeTensor(b, [B, M, N]);
  const A = f32(b, x),
    Bm = f32(b, y),
    C = f32(b, out);
  const acc = new Float64Array(N);
  for (let n = 0; n < B; n++) {
    const aOff = (ba === 1 ? 0 : n) * ar * ac,
      bOff = (bb === 1 ? 0 : n) * br * bc,
      cOff = n * M * N;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = transposeA ? A[aOff + k * ac + i] : A[aOff + i * ac + k];
        if (aik === 0) continue;
        if (transposeB) for (let j = 0; j < N; j++) acc[j] += aik * Bm[bOff + j * bc + k];
        else {
          const row = bOff + k * bc;
          for (let j = 0; j < N; j++) acc[j] += aik * Bm[row + j];
        }
      }
      for (let j = 0; j < N; j++) C[cOff + i * N + j] = acc[j];
    }
  }
  return out;
}
