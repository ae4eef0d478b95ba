// The product's whole GEMM for context: wasm/build/kernels-relaxed.wasm (built by `node wasm/build.mjs`, not here),
// instantiated over its own memory the way src/backend/wasm/wasm-backend.ts does, and its `gemm` export called on
// row-major A (M×K), B (K×N) into C (M×N), with the scratch gemmWorkBytes(M, N, K) asks for.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PRODUCT_WASM = fileURLToPath(new URL('../../wasm/build/kernels-relaxed.wasm', import.meta.url));

const align64 = (n) => (n + 63) & ~63;

/**
 * A runner of C = A·B through the product's gemm, or { unavailable: reason } when the binary is not built.
 * run(reps) calls gemm reps times (each call overwrites C: accumulate = 0).
 */
export function productGemm(M, N, K, A, B) {
  if (!existsSync(PRODUCT_WASM)) return { unavailable: `${PRODUCT_WASM} not built (node wasm/build.mjs)` };
  const memory = new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(readFileSync(PRODUCT_WASM));
  const { exports: k } = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error('wasm kernel abort');
      },
    },
  });
  const a = align64(k.heapBase());
  const b = align64(a + M * K * 4);
  const c = align64(b + K * N * 4);
  const work = align64(c + M * N * 4);
  const end = work + Number(k.gemmWorkBytes(M, N, K));
  memory.grow(Math.ceil(end / 65536) - memory.buffer.byteLength / 65536);
  new Float32Array(memory.buffer, a, M * K).set(A);
  new Float32Array(memory.buffer, b, K * N).set(B);
  return {
    flopsPerRep: 2 * M * N * K,
    run: (reps) => {
      for (let i = 0; i < reps; i++) k.gemm(0, 0, M, N, K, a, K, b, N, c, N, 0, work);
    },
    output: () => Float32Array.from(new Float32Array(memory.buffer, c, M * N)),
  };
}

/** C = A·B in float64, row-major (i-k-j order so the inner loop runs along rows). */
export function referenceGemm(M, N, K, A, B) {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    const row = C.subarray(i * N, (i + 1) * N);
    for (let p = 0; p < K; p++) {
      const aip = A[i * K + p];
      const bp = p * N;
      for (let j = 0; j < N; j++) row[j] += aip * B[bp + j];
    }
  }
  return C;
}
