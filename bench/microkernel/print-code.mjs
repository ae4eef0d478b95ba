// Child of codegen.mjs, run with --no-liftoff --print-wasm-code: reads a binary on stdin and calls into it so that
// V8, which compiles wasm functions lazily (on first call) and prints each as it compiles it, compiles what we read.
//   all   the study: every export once with zero arguments (no loop trip; stores land at address 0)
//   gemm  the product: gemm on a 12×24×8 product, big enough (N > 16) to take the packed 6×8 path
import { readFileSync } from 'node:fs';

const binary = readFileSync(0);
const memory = new WebAssembly.Memory({ initial: 16 });
const env = {
  memory,
  abort: () => {
    throw new Error('wasm abort');
  },
};
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(binary), { env });
if (process.argv[2] === 'gemm') {
  const base = (exports.heapBase() + 63) & ~63;
  const [M, N, K] = [12, 24, 8];
  const a = base;
  const b = a + 4096;
  const c = b + 4096;
  const work = c + 4096;
  exports.gemm(0, 0, M, N, K, a, K, b, N, c, N, 0, work);
} else {
  for (const fn of Object.values(exports)) {
    if (typeof fn === 'function') fn(0, 0, 0, 0, 0, 0, 0);
  }
}
