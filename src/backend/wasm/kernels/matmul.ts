import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { MatMulAttrs } from '../../kernel-attrs.js';
import type { WasmBackend } from '../wasm-backend.js';

/** C = op(A)·op(B) into `c` through the packed SIMD GEMM; pointers are byte offsets. */
export function gemm(
  b: WasmBackend,
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  a: number,
  lda: number,
  bp: number,
  ldb: number,
  c: number,
  ldc: number,
  accumulate: boolean,
): void {
  const work = b.scratchPtr(b.k.gemmWorkBytes(M, N, K), 0);
  b.k.gemm(+transA, +transB, M, N, K, a, lda, bp, ldb, c, ldc, +accumulate, work);
}

export function matMulWasm(b: WasmBackend, [x, y]: readonly Tensor[], { transposeA, transposeB }: MatMulAttrs): Tensor {
  const [ba, ar, ac] = x.shape,
    [bb, br, bc] = y.shape;
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac,
    N = transposeB ? br : bc;
  const B = Math.max(ba, bb);
  const out = makeTensor(b, [B, M, N]);
  const pa = b.ptr(x.storage),
    pb = b.ptr(y.storage),
    pc = b.ptr(out.storage);
  for (let n = 0; n < B; n++) {
    gemm(
      b,
      transposeA,
      transposeB,
      M,
      N,
      K,
      pa + (ba === 1 ? 0 : n) * ar * ac * 4,
      ac,
      pb + (bb === 1 ? 0 : n) * br * bc * 4,
      bc,
      pc + n * M * N * 4,
      N,
      false,
    );
  }
  return out;
}
