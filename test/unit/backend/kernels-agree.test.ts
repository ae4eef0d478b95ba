/**
 * Every kernel of every accelerated backend against the js reference, on random inputs with sizes that
 * are not multiples of the SIMD width or the GEMM tile. Tolerances per kernel are written next to each case.
 */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { Rng, tensor, type Backend } from '../../../src/index.js';
import { accelerated, expectClose, js, randomArray } from '../helpers.js';
import { cases, type Case } from './kernel-cases.js';

/** Runs `run` on js and on `b` with identical random inputs (same seed) and compares every output. */
function agree(b: Backend, c: Case, seed: number): void {
  const outputs = [js, b].map((backend) => {
    const rng = new Rng(seed);
    const on = (shape: number[], lo = -1, hi = 1) =>
      tensor(
        randomArray(
          rng,
          shape.reduce((p, d) => p * d, 1),
          lo,
          hi,
        ),
        shape,
        'float32',
        backend,
      );
    return lh.tidy(() => {
      const r = c.run(on, backend);
      return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: [...t.shape], data: Array.from(t.dataSync()) }));
    });
  });
  outputs[0].forEach((ref, i) => {
    expect(outputs[1][i].shape, `${c.name} output ${i} shape`).toEqual(ref.shape);
    expectClose(outputs[1][i].data, ref.data, c.rtol, c.atol, `${c.name} on ${b.flavour} output ${i}`);
  });
}

describe.each(accelerated.map((b) => [b.flavour, b] as const))('%s agrees with the js reference', (_, backend) => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_n, c, i) => agree(backend, c, 1000 + i));
});

describe('the accelerated kernels are really accelerated', () => {
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
