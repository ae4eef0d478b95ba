/**
 * Every kernel of every accelerated backend against the js reference, on random inputs with sizes that
 * are not multiples of the SIMD width or the GEMM tile. Tolerances per kernel are written next to each case.
 *
 * wasm registers the js reference function itself for the kernels it has no SIMD code for (argmax, cross-entropy
 * and its gradient, gather, scatter-add, the layout ops, the random fills): a case that runs only such kernels
 * compares the js function with itself and checks nothing but the copies to and from the wasm heap. Those cases
 * are found from the registry (by tracing which kernels a case runs) and listed under their own describe, so that
 * nobody counts them as independent evidence; known-answers.test.ts checks their values against hand-computed
 * and float64 results instead.
 */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import type { Backend } from '../../../src/index.js';
import type { KernelName } from '../../../src/backend/kernel-names.js';
import { accelerated, js } from '../helpers.js';
import { agreeWithJs, caseInputs, cases, type Case } from './kernel-cases.js';

/** The kernels `c` runs on `b`: every kernel registered for `b.name` is wrapped for one run, then put back. */
function kernelsRun(c: Case, b: Backend, seed: number): Set<KernelName> {
  const used = new Set<KernelName>();
  const configs = lh.listKernels(b.name);
  const original = configs.map((k) => k.kernelFunc);
  for (const [i, k] of configs.entries()) {
    k.kernelFunc = (backend, ins, attrs) => {
      used.add(k.kernelName);
      return original[i](backend, ins, attrs);
    };
  }
  try {
    lh.tidy(() => {
      c.run(caseInputs(b, seed), b);
    });
  } finally {
    for (const [i, k] of configs.entries()) k.kernelFunc = original[i];
  }
  return used;
}

/** True when `b` registers the very function js registers for `kernel`: the same code, only on another heap. */
const runsJsKernel = (b: Backend, kernel: KernelName) =>
  lh.listKernels(b.name).find((k) => k.kernelName === kernel)?.kernelFunc ===
  lh.listKernels(js.name).find((k) => k.kernelName === kernel)?.kernelFunc;

/** Splits the cases into those that run own code of `b` somewhere and those that run only js kernels on `b`. */
function split(b: Backend) {
  const own: [string, Case, number][] = [],
    same: [string, Case, number][] = [];
  cases.forEach((c, i) => {
    const seed = 1000 + i;
    ([...kernelsRun(c, b, seed)].every((k) => runsJsKernel(b, k)) ? same : own).push([c.name, c, seed]);
  });
  return { own, same };
}
const splits = new Map(accelerated.map((b) => [b, split(b)]));

describe.each(accelerated.map((b) => [b.flavour, b] as const))(
  '%s agrees with the js reference',
  { tags: ['js-oracle'] },
  (_, backend) => {
    it.each(splits.get(backend)?.own ?? [])('%s', (_n, c, seed) => agreeWithJs(backend, c, seed));
  },
);

describe.each(accelerated.map((b) => [b.flavour, b] as const))(
  '%s runs the js kernel: same code, checks only the heap glue',
  { tags: ['self-comparison'] },
  (_, backend) => {
    it.each(splits.get(backend)?.same ?? [])('%s (wasm runs the js kernel)', (_n, c, seed) =>
      agreeWithJs(backend, c, seed),
    );
  },
);

describe('the self-comparisons are counted as what they are', { tags: ['invariant'] }, () => {
  it('a wasm kernel is the js function exactly where its registry note says it is not SIMD code', () => {
    for (const k of lh.listKernels('wasm'))
      expect(runsJsKernel(accelerated[0], k.kernelName), `${k.kernelName}: ${k.note}`).toBe(k.note !== 'simd');
  });

  it('lists the same cases as self-comparisons on both wasm builds, and only cases of js-only kernels', () => {
    const names = accelerated.map((b) => splits.get(b)?.same.map(([n]) => n));
    expect(names[1]).toEqual(names[0]);
    const same = names[0] ?? [];
    // argmax ×3, crossEntropy ×4, crossEntropyGrad ×4, gather, scatterAdd, transpose, concat, slice, random ×3
    expect(same.length).toBe(19);
    for (const n of same)
      expect(n).toMatch(/^(argmax|crossEntropy|gather|scatterAdd|transpose|concat|slice|random|dropout)/);
  });
});

describe('the accelerated kernels are really accelerated', { tags: ['invariant'] }, () => {
  it('registers SIMD code for the hot kernels on wasm', () => {
    const notes = Object.fromEntries(lh.listKernels('wasm').map((k) => [k.kernelName, k.note]));
    for (const k of [
      'MatMul',
      'Conv2D',
      'Conv2DBackpropInput',
      'Conv2DBackpropFilter',
      'MaxPool',
      'MaxPoolGrad',
      'AvgPool',
      'AvgPoolGrad',
      'Unary',
      'Binary',
      'Sum',
      'Softmax',
      'OptimizerStep',
    ])
      expect(notes[k]).toBe('simd');
    expect(accelerated.map((b) => b.flavour)).toEqual(['wasm-simd', 'wasm-relaxed']);
  });
});
