/**
 * Feature detection by validating tiny modules: a function (v128, v128, v128) → v128 whose body is one
 * f32x4.add (SIMD128) or one f32x4.relaxed_madd (relaxed SIMD). Node 20 rejects the latter unless run
 * with --experimental-wasm-relaxed-simd; Chromium accepts it.
 */
const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const types = [0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b];
const funcs = [0x03, 0x02, 0x01, 0x00];

function moduleWith(operands: number, op: number[]): Uint8Array<ArrayBuffer> {
  const gets = Array.from({ length: operands }, (_, i) => [0x20, i]).flat();
  const body = [0x00, ...gets, ...op, 0x0b];
  const code = [0x0a, body.length + 2, 0x01, body.length, ...body];
  return new Uint8Array([...header, ...types, ...funcs, ...code]);
}

export const simdSupported = (): boolean => WebAssembly.validate(moduleWith(2, [0xfd, 0xe4, 0x01]));
export const relaxedSimdSupported = (): boolean => WebAssembly.validate(moduleWith(3, [0xfd, 0x85, 0x02]));
/** Shared memory (threads) needs cross-origin isolation in browsers. */
export function threadsSupported(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Hardware threads: Node's available parallelism, a browser's hardwareConcurrency, else 1. */
export async function hardwareThreads(): Promise<number> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}
