import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { MatMulAttrs } from '../../kernel-attrs.js';
import type { WasmBackend } from '../wasm-backend.js';
import { gemmSplit } from '../split.js';

/**
 * Below this many multiply-adds a GEMM stays in one thread: a round trip to the helpers costs 7–50 µs (measured
 * back to back, and after the helper has slept), and 128×512×10 (655 K, ~0.2 ms at the narrow-N speed) still ran
 * slower on 2 threads than on one.
 */
export const GEMM_SPLIT_MIN = 1 << 20;

/**
 * C = op(A)·op(B) into `c` through the packed SIMD GEMM; pointers are byte offsets. With threads, large products
 * split into row panels of C (or column panels: gemmSplit), one GEMM per thread on its panel with its own scratch.
 * Every element of C is then computed by one thread exactly as one thread computes it (same K blocking, same order
 * of products), so the result is bit-identical to one thread's.
 */
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
  const split = b.threads > 1 && M * N * K >= GEMM_SPLIT_MIN ? gemmSplit(M, N, b.threads) : null;
  if (!split) {
    const work = b.scratchPtr(b.k.gemmWorkBytes(M, N, K), 0);
    b.k.gemm(+transA, +transB, M, N, K, a, lda, bp, ldb, c, ldc, +accumulate, work);
    return;
  }
  const calls = split.parts.map(([start, end], part) => {
    const byM = split.along === 'M',
      m = byM ? end - start : M,
      n = byM ? N : end - start;
    // rows of op(A) are rows of A, or columns of A when transposed; columns of op(B) likewise
    const pa = byM ? a + start * (transA ? 1 : lda) * 4 : a,
      pb = byM ? bp : bp + start * (transB ? ldb : 1) * 4,
      pc = byM ? c + start * ldc * 4 : c + start * 4;
    const work = b.partScratch(part, b.k.gemmWorkBytes(m, n, K));
    return { fn: 'gemm' as const, args: [+transA, +transB, m, n, K, pa, lda, pb, ldb, pc, ldc, +accumulate, work] };
  });
  b.runParts(calls);
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
