import { expect } from 'vitest';
import { createBackend, type Rng, tensor, type Backend, type Tensor } from '../../src/index.js';

export const js = await createBackend('js');
export const wasmSimd = await createBackend('wasm', { simd: 'plain' });
export const wasmRelaxed = await createBackend('wasm', { simd: 'relaxed' });
/** Every accelerated backend, each checked against the js oracle. */
export const accelerated: Backend[] = [wasmSimd, wasmRelaxed];

export function randomArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return rng.fillUniform(new Float32Array(n), lo, hi);
}

/** The same random values as a tensor on each backend. */
export function randomOn(backends: Backend[], rng: Rng, shape: number[], lo = -1, hi = 1): Tensor[] {
  const data = randomArray(
    rng,
    shape.reduce((p, d) => p * d, 1),
    lo,
    hi,
  );
  return backends.map((b) => tensor(data, shape, 'float32', b));
}

/** |a − b| ≤ atol + rtol·|b| elementwise, with the worst element named on failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
  what = '',
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let worst = -1,
    worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
