// @module-tag hand-computed
/**
 * Known answers on every backend Node tests have (js, wasm-simd, wasm-relaxed, webgpu). kernels-agree and
 * webgpu-kernels compare backends with the js kernels, and wasm runs several js kernels itself; here the expected
 * values come from outside our kernels: small examples computed by hand (the arithmetic is in the comments) and
 * float64 restatements of the mathematical definitions, written inline below (none calls a kernel).
 *
 * Inputs are float32, so every restatement starts from the float32-rounded inputs (`f32`). Tolerances are 1e-6
 * relative where the float32 answer is exact or one rounding away; looser ones say why next to them.
 */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { tensor, type Backend, type Tensor } from '../../../src/index.js';
import { expectClose, js, wasmRelaxed, wasmSimd } from '../helpers.js';
import { gpu } from '../webgpu-backend.js';

const backends: Backend[] = [js, wasmSimd, wasmRelaxed, gpu];

type On = (values: readonly number[], shape: number[], dtype?: 'float32' | 'int32') => Tensor;
type Expected = { shape: number[]; data: readonly number[] };

/** Builds the op on `b`, reads every output back (asynchronously: WebGPU) and frees it. */
async function outputs(b: Backend, build: (on: On) => Tensor | Tensor[]): Promise<Expected[]> {
  const ts = lh.tidy(() => {
    const r = build((values, shape, dtype = 'float32') => tensor([...values], shape, dtype, b));
    return Array.isArray(r) ? r : [r];
  });
  try {
    return await Promise.all(ts.map(async (t) => ({ shape: [...t.shape], data: Array.from(await t.data()) })));
  } finally {
    lh.dispose(ts);
  }
}

/** Shapes equal; ±Infinity and NaN where expected exactly; finite values within atol + rtol·|expected|. */
function near(actual: Expected, expected: Expected, rtol: number, atol: number, what: string): void {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  expect(actual.data.length, `${what}: length`).toBe(expected.data.length);
  const a: number[] = [],
    e: number[] = [];
  expected.data.forEach((x, i) => {
    if (Number.isFinite(x)) {
      a.push(actual.data[i]);
      e.push(x);
    } else expect(actual.data[i], `${what}: element ${i}`).toBe(x);
  });
  expectClose(a, e, rtol, atol, what);
}

async function check(
  b: Backend,
  build: (on: On) => Tensor | Tensor[],
  expected: Expected | Expected[],
  what: string,
  rtol = 1e-6,
  atol = 0,
): Promise<void> {
  const got = await outputs(b, build);
  const want = Array.isArray(expected) ? expected : [expected];
  expect(got.length, `${what}: outputs`).toBe(want.length);
  for (const [i, w] of want.entries()) near(got[i], w, rtol, atol, `${what} on ${b.flavour}, output ${i}`);
}

// ---- float64 restatements of the definitions (inputs rounded to float32 first) ----

const f32 = (xs: readonly number[]) => Array.from(Float32Array.from(xs));
/** Deterministic values in [-amp, amp], float32. */
const wave = (n: number, amp: number, phase = 0.3) =>
  f32(Array.from({ length: n }, (_, i) => amp * Math.sin(1.7 * i + phase)));
const rowsOf = (x: readonly number[], cols: number) =>
  Array.from({ length: x.length / cols }, (_, r) => x.slice(r * cols, r * cols + cols));
/** softmax(x)_j = e^{x_j} / Σ_k e^{x_k}, straight from the definition (the test rows are small enough). */
const softmax64 = (row: readonly number[]) => {
  const s = row.reduce((p, v) => p + Math.exp(v), 0);
  return row.map((v) => Math.exp(v) / s);
};
/** log softmax(x)_j = x_j − log Σ_k e^{x_k}. */
const logSoftmax64 = (row: readonly number[]) => {
  const lse = Math.log(row.reduce((p, v) => p + Math.exp(v), 0));
  return row.map((v) => v - lse);
};

/** Row-major multi-indices of a shape. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((p, d) => p * d, 1),
    idx = shape.map(() => 0);
  for (let i = 0; i < n; i++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}
const flat = (shape: readonly number[], idx: readonly number[]) => idx.reduce((p, v, d) => p * shape[d] + v, 0);

/** The elements of x reduced over `axes`, grouped per output element, in output order. */
function groups(x: readonly number[], shape: number[], axes: number[], keepDims: boolean) {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out: number[][] = Array.from({ length: outShape.reduce((p, d) => p * d, 1) }, () => []);
  for (const idx of indices(shape)) {
    const at = idx.map((v, d) => (axes.includes(d) ? 0 : v));
    out[flat(outShape, at)].push(x[flat(shape, idx)]);
  }
  return { shape: keepDims ? outShape : shape.filter((_, i) => !axes.includes(i)), groups: out };
}
function reduce64(
  x: readonly number[],
  shape: number[],
  axes: number[],
  keepDims: boolean,
  f: (g: number[]) => number,
): Expected {
  const g = groups(x, shape, axes, keepDims);
  return { shape: g.shape, data: g.groups.map(f) };
}
const sum64 = (g: number[]) => g.reduce((p, v) => p + v, 0);
const mean64 = (g: number[]) => sum64(g) / g.length;
/** Population (biased) variance, Σ(x − μ)² / n: what `moments` documents and batch normalisation uses. */
const variance64 = (g: number[]) => {
  const m = mean64(g);
  return g.reduce((p, v) => p + (v - m) * (v - m), 0) / g.length;
};

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** x[i, j, k] = 12i + 4j + k on [2, 3, 4]: every element names its own index. */
const iota234 = range(24);

/**
 * The WGSL softmax kernels form x − (m + log Σ e^(x−m)) with the log-sum-exp rounded to float32: for rows near 1000
 * that rounding is up to half an ulp of 1002, 2⁻¹⁵ ≈ 3.1e-5 absolute, which e^(x − lse) turns into a relative error
 * of the same size in softmax and an absolute one in log-softmax and cross-entropy (lse − x). A precision limit of
 * that formulation, not instability (that would give NaN, Infinity or 0); js and wasm keep the large rows to 1e-6,
 * and every backend keeps small rows to `softmaxRtol`.
 */
const largeRowTol = (b: Backend) => (b === gpu ? 3.1e-5 : 1e-6);
/**
 * e^(x − lse) for rows in [−8, 8]: x − lse reaches about −13, and its float32 rounding (half an ulp of 13, 4.8e-7,
 * from the subtraction, plus the rounding of lse itself) becomes a relative error of up to ~1e-6 before exp adds its
 * own (WGSL allows exp a few ulp): 3e-6. Log-softmax gets the same absolute error: atol 2e-6 on values down to −13.
 */
const softmaxRtol = 3e-6,
  logSoftmaxAtol = 2e-6;

describe.each(backends.map((b) => [b.flavour, b] as const))('%s gives the known answers', (_, b) => {
  describe('softmax and log-softmax over the last axis', () => {
    it('softmax: equal entries, -Infinity entries (hand)', async () => {
      // [5,5,5,5] → ¼ each; [0,−∞,0,−∞] → e⁰/(e⁰+e⁰) = ½ where finite, e^−∞ = 0 elsewhere; a single finite → 1
      const x = [5, 5, 5, 5, 0, -Infinity, 0, -Infinity, -Infinity, 3, -Infinity, -Infinity];
      const want = [0.25, 0.25, 0.25, 0.25, 0.5, 0, 0.5, 0, 0, 1, 0, 0];
      await check(b, (on) => lh.softmax(on(x, [3, 4])), { shape: [3, 4], data: want }, 'softmax hand');
    });

    it('softmax: [1000, 1001, 1002] and [-1000, -1001, -1002] do not overflow (hand)', async () => {
      // only differences matter: softmax([0, 1, 2]) = [1, e, e²] / (1 + e + e²), 1 + e + e² = 11.107337927389695
      // → 1/11.1073… = 0.09003057317038046, e/11.1073… = 0.24472847105479764, e²/11.1073… = 0.6652409557748219;
      // the negative row is the same row reversed
      const p = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
      await check(
        b,
        (on) => lh.softmax(on([1000, 1001, 1002, -1000, -1001, -1002], [2, 3])),
        { shape: [2, 3], data: [...p, ...[...p].reverse()] },
        'softmax large',
        largeRowTol(b),
      );
    });

    it('log-softmax: equal entries, -Infinity entries (hand)', async () => {
      // [5,5,5,5] → log ¼ = −1.3862943611198906; [0,−∞,0,−∞] → [−ln 2, −∞, −ln 2, −∞]; [−∞,3,−∞,−∞] → [−∞,0,−∞,−∞]
      const q = -1.3862943611198906,
        ln2 = Math.LN2,
        inf = Number.NEGATIVE_INFINITY;
      const x = [5, 5, 5, 5, 0, inf, 0, inf, inf, 3, inf, inf];
      const want = [q, q, q, q, -ln2, inf, -ln2, inf, inf, 0, inf, inf];
      await check(b, (on) => lh.logSoftmax(on(x, [3, 4])), { shape: [3, 4], data: want }, 'logSoftmax hand');
    });

    it('log-softmax: [1000, 1001, 1002, -Infinity] and its negative do not overflow (hand)', async () => {
      // log softmax_j = x_j − 1002 − ln(1 + e⁻¹ + e⁻²) = j − 2 − 0.4076059644443804 (the −∞ entry stays −∞);
      // for [−1000, −1001, −1002, −∞] it is −j − 0.4076059644443804
      const l = 0.4076059644443804,
        inf = Number.NEGATIVE_INFINITY;
      await check(
        b,
        (on) => lh.logSoftmax(on([1000, 1001, 1002, inf, -1000, -1001, -1002, inf], [2, 4])),
        { shape: [2, 4], data: [-2 - l, -1 - l, -l, inf, -l, -1 - l, -2 - l, inf] },
        'logSoftmax large',
        0,
        largeRowTol(b),
      );
    });

    it('softmax and log-softmax of 5 rows of 7 against float64', async () => {
      const x = wave(35, 8);
      await check(
        b,
        (on) => lh.softmax(on(x, [5, 7])),
        { shape: [5, 7], data: rowsOf(x, 7).flatMap(softmax64) },
        'softmax 5x7',
        softmaxRtol,
      );
      await check(
        b,
        (on) => lh.logSoftmax(on(x, [5, 7])),
        { shape: [5, 7], data: rowsOf(x, 7).flatMap(logSoftmax64) },
        'logSoftmax 5x7',
        1e-6,
        logSoftmaxAtol,
      );
    });
  });

  describe('cross-entropy (int32 labels, mean over the batch by default) and its gradient', () => {
    // rows [0,0,0] label 1, [1000,1001,1002] label 2, [1000,1001,1002] label 0
    const logits = [0, 0, 0, 1000, 1001, 1002, 1000, 1001, 1002];
    const labels = [1, 2, 0];
    // softmax of the large rows, as above: [1, e, e²] / (1 + e + e²)
    const p = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];

    it('per sample and mean (hand)', async () => {
      // −log softmax[label] = lse − x[label]: ln 3 = 1.0986122886681096; ln(1 + e⁻¹ + e⁻²) = 0.4076059644443804;
      // 2 + 0.4076059644443804 = 2.4076059644443806; their mean 3.9138242175568706 / 3 = 1.3046080725189568
      const each = [1.0986122886681096, 0.4076059644443804, 2.4076059644443806];
      for (const reduction of ['none', 'mean'] as const) {
        await check(
          b,
          (on) => lh.crossEntropy(on(logits, [3, 3]), on(labels, [3], 'int32'), reduction),
          reduction === 'none' ? { shape: [3], data: each } : { shape: [], data: [1.3046080725189568] },
          `crossEntropy ${reduction}`,
          1e-6,
          largeRowTol(b),
        );
      }
    });

    it('gradient of the mean: (softmax − onehot) / batch (hand)', async () => {
      // row 0: ([⅓, ⅓, ⅓] − [0, 1, 0]) / 3 = [1/9, −2/9, 1/9]
      // row 1: ([p0, p1, p2] − [0, 0, 1]) / 3 = [0.03001019105679349, 0.08157615701826588, −0.11158634807505937]
      // row 2: ([p0, p1, p2] − [1, 0, 0]) / 3 = [−0.3033231422765399, 0.08157615701826588, 0.22174698525827397]
      const want = [1 / 9, -2 / 9, 1 / 9, p[0] / 3, p[1] / 3, (p[2] - 1) / 3, (p[0] - 1) / 3, p[1] / 3, p[2] / 3];
      await check(
        b,
        (on) => lh.crossEntropyGrad(on(logits, [3, 3]), on(labels, [3], 'int32')),
        { shape: [3, 3], data: want },
        'crossEntropyGrad mean',
        1e-6,
        largeRowTol(b) / 3, // the softmax's relative error (≤ 1) over the batch of 3
      );
    });

    it('gradient with per-sample weights dLoss: (softmax − onehot) · dLoss (hand)', async () => {
      // dLoss [2, 0.5, −1]: row 0 → [⅔, −4/3, ⅔]; row 1 → [p0, p1, p2 − 1] / 2; row 2 → [1 − p0, −p1, −p2]
      const want = [2 / 3, -4 / 3, 2 / 3, p[0] / 2, p[1] / 2, (p[2] - 1) / 2, 1 - p[0], -p[1], -p[2]];
      await check(
        b,
        (on) => lh.crossEntropyGrad(on(logits, [3, 3]), on(labels, [3], 'int32'), on([2, 0.5, -1], [3])),
        { shape: [3, 3], data: want },
        'crossEntropyGrad weighted',
        1e-6,
        largeRowTol(b), // the softmax's relative error times |dLoss| · p ≤ 0.67
      );
    });

    it('5 rows of 7 against float64: per sample, mean, gradient', async () => {
      const x = wave(35, 8, 1.1),
        y = [3, 0, 6, 6, 2];
      const each = rowsOf(x, 7).map((row, r) => -logSoftmax64(row)[y[r]]);
      const grad = rowsOf(x, 7).flatMap((row, r) => softmax64(row).map((v, j) => (v - (j === y[r] ? 1 : 0)) / 5));
      const ce = (on: On, reduction: 'none' | 'mean') => lh.crossEntropy(on(x, [5, 7]), on(y, [5], 'int32'), reduction);
      // the loss is lse − x[label], a difference of values up to ~8: the absolute error of lse (see logSoftmaxAtol)
      await check(b, (on) => ce(on, 'none'), { shape: [5], data: each }, 'crossEntropy 5x7', 1e-6, logSoftmaxAtol);
      await check(b, (on) => ce(on, 'mean'), { shape: [], data: [mean64(each)] }, 'crossEntropy mean 5x7', 1e-6, 1e-6);
      await check(
        b,
        (on) => lh.crossEntropyGrad(on(x, [5, 7]), on(y, [5], 'int32')),
        { shape: [5, 7], data: grad },
        'crossEntropyGrad 5x7',
        softmaxRtol,
        1e-7,
      );
    });
  });

  describe('reductions', () => {
    const shape = [2, 3, 4];
    const axesSets = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];
    // multiples of 1/64 in [−8, 8]: every partial sum of up to 24 of them is exact in float32, in any order
    const x = wave(24, 8).map((v) => Math.round(v * 64) / 64);

    it('sum of x[i,j,k] = 12i + 4j + k (hand)', async () => {
      // over k: 4·(12i + 4j) + (0+1+2+3) = [6, 22, 38, 54, 70, 86]; over i and k, kept: Σᵢ (48i + 16j + 6) =
      // 32j + 60 = [60, 92, 124]; over everything: 0 + 1 + … + 23 = 23·24/2 = 276
      await check(b, (on) => lh.sum(on(iota234, shape), 2), { shape: [2, 3], data: [6, 22, 38, 54, 70, 86] }, 'sum');
      await check(
        b,
        (on) => lh.sum(on(iota234, shape), [0, 2], true),
        { shape: [1, 3, 1], data: [60, 92, 124] },
        'sum',
      );
      await check(b, (on) => lh.sum(on(iota234, shape)), { shape: [], data: [276] }, 'sum all');
    });

    it('sum, max and mean over every set of axes, with and without keepDims, against float64', async () => {
      // max: every value negative (a reduction that starts from 0 shows) and one −∞
      const neg = x.map((v, i) => (i === 5 ? Number.NEGATIVE_INFINITY : -Math.abs(v) - 1));
      for (const axes of axesSets)
        for (const keepDims of [false, true]) {
          const what = `axes ${axes} keepDims ${keepDims}`;
          await check(
            b,
            (on) => lh.sum(on(x, shape), axes, keepDims),
            reduce64(x, shape, axes, keepDims, sum64),
            `sum ${what}`,
          );
          await check(
            b,
            (on) => lh.max(on(neg, shape), axes, keepDims),
            reduce64(neg, shape, axes, keepDims, (g) => Math.max(...g)),
            `max ${what}`,
            0,
          );
          // the sum is exact; × 1/count rounds twice (1/count, then the product): 1e-6
          await check(
            b,
            (on) => lh.mean(on(x, shape), axes, keepDims),
            reduce64(x, shape, axes, keepDims, mean64),
            `mean ${what}`,
          );
        }
    });
  });

  describe('moments: mean and population variance Σ(x − μ)² / n', () => {
    it('[1, 2, 3, 4] and [10001, …, 10004] (hand)', async () => {
      // μ = 2.5, σ² = (1.5² + 0.5² + 0.5² + 1.5²) / 4 = 5 / 4 = 1.25; shifted by 10000: μ = 10002.5, σ² = 1.25
      // (E[x²] − μ² in float32 would fail the second row: E[x²] ≈ 1.0005e8, where float32 values are 8 apart)
      await check(
        b,
        (on) => {
          const m = lh.moments(on([1, 2, 3, 4, 10001, 10002, 10003, 10004], [2, 4]), 1);
          return [m.mean, m.variance];
        },
        [
          { shape: [2], data: [2.5, 10002.5] },
          { shape: [2], data: [1.25, 1.25] },
        ],
        'moments hand',
      );
    });

    it('per channel of [N, C, H, W] and over other axes, against float64', async () => {
      const shape = [2, 3, 2, 2];
      const x = wave(24, 8).map((v) => Math.round(v * 64) / 64);
      // + 1000: μ over 8 values of 1/64 steps stays exact in float32, so the variance must be too
      const cases: [number[], number[], boolean][] = [
        [x, [0, 2, 3], true],
        [x, [0, 2, 3], false],
        [x.map((v) => v + 1000), [0, 2, 3], false],
        [x, [1], false],
        [x, [3], true],
        [x, [0, 1, 2, 3], false],
      ];
      for (const [data, axes, keepDims] of cases) {
        // over axis 1 (3 values) or all 24, μ is one rounding away (1/count is inexact); the centred values inherit
        // that absolute error, half an ulp of 8 = 4.8e-7 at most, which keeps σ² (~30) within 1e-6 of it
        await check(
          b,
          (on) => {
            const m = lh.moments(on(data, shape), axes, keepDims);
            return [m.mean, m.variance];
          },
          [reduce64(data, shape, axes, keepDims, mean64), reduce64(data, shape, axes, keepDims, variance64)],
          `moments axes ${axes} keepDims ${keepDims} offset ${data[0] - x[0]}`,
        );
      }
    });
  });

  // the js reference moves to a later index only for a strictly larger value: the first of tied maxima wins, and a
  // lane that is all −∞ answers 0. Every backend is held to that convention.
  describe('argmax: the first of tied maxima wins', () => {
    it('along the last axis', async () => {
      const inf = Number.NEGATIVE_INFINITY;
      const x = [
        [3, 1, 3, 2, 0, 0], // 3 at 0 and 2 → 0
        [1, 5, 5, 5, 0, 5], // 5 at 1, 2, 3, 5 → 1
        [2, 2, 2, 2, 2, 2], // all tied → 0
        [inf, inf, inf, inf, inf, inf], // all −∞: nothing beats the start → 0
        [0, -1, 7, 7, 7, 7], // → 2
        [-3, -2, -1, -1, -2, -1], // → 3: negative ties
      ];
      await check(b, (on) => lh.argmax(on(x.flat(), [6, 6])), { shape: [6], data: [0, 1, 0, 0, 2, 2] }, 'argmax', 0);
      await check(
        b,
        (on) => lh.argmax(on(x.flat(), [6, 6]), -1, true),
        { shape: [6, 1], data: [0, 1, 0, 0, 2, 2] },
        'argmax keepDims',
        0,
      );
    });

    it('along the first and a middle axis', async () => {
      // columns of [[1,9,4,4],[1,9,5,4],[0,9,5,4]]: (1,1,0) → 0, (9,9,9) → 0, (4,5,5) → 1, (4,4,4) → 0
      const x = [1, 9, 4, 4, 1, 9, 5, 4, 0, 9, 5, 4];
      await check(b, (on) => lh.argmax(on(x, [3, 4]), 0), { shape: [4], data: [0, 0, 1, 0] }, 'argmax axis 0', 0);
      await check(
        b,
        (on) => lh.argmax(on([7, 1, 7, 2, 3, 2, 0, 5, 5, 5, 5, 1], [2, 3, 2]), 1, true),
        // x[0,:,0] = (7,7,3) → 0; x[0,:,1] = (1,2,2) → 1; x[1,:,0] = (0,5,5) → 1; x[1,:,1] = (5,5,1) → 0
        { shape: [2, 1, 2], data: [0, 1, 1, 0] },
        'argmax axis 1',
        0,
      );
    });
  });

  describe('gather and scatter-add with repeated indices', () => {
    // table [5, 3]: row r is [10r + 0.5, 10r + 1.5, 10r + 2.5]
    const table = range(15).map((i) => 10 * Math.floor(i / 3) + (i % 3) + 0.5);

    it('gather rows 4, 0, 4, 2, 4, 1 (hand)', async () => {
      const want = [
        40.5, 41.5, 42.5, 0.5, 1.5, 2.5, 40.5, 41.5, 42.5, 20.5, 21.5, 22.5, 40.5, 41.5, 42.5, 10.5, 11.5, 12.5,
      ];
      await check(
        b,
        (on) => lh.gather(on(table, [5, 3]), on([4, 0, 4, 2, 4, 1], [6], 'int32')),
        { shape: [6, 3], data: want },
        'gather',
        0,
      );
    });

    it('scatter-add into 5 rows at 1, 3, 1, 1, 0, 3 (hand)', async () => {
      const u = [
        [1, 2, 3],
        [10, 20, 30],
        [100, 200, 300],
        [0.5, 0.25, -4],
        [7, 8, 9],
        [-1, -2, -3],
      ];
      // row 0 = u4; row 1 = u0 + u2 + u3 = [1 + 100 + 0.5, 2 + 200 + 0.25, 3 + 300 − 4]; row 3 = u1 + u5; 2 and 4 = 0
      const want = [7, 8, 9, 101.5, 202.25, 299, 0, 0, 0, 9, 18, 27, 0, 0, 0];
      await check(
        b,
        (on) => lh.scatterAdd(on(u.flat(), [6, 3]), on([1, 3, 1, 1, 0, 3], [6], 'int32'), 5),
        { shape: [5, 3], data: want },
        'scatterAdd',
        0,
      );
    });
  });

  describe('layout: transpose, concat, slice', () => {
    const shape = [2, 3, 4];

    it('transpose [2,3,4] by [2,0,1] (hand)', async () => {
      // out[a, b, c] = x[b, c, a] = 12b + 4c + a, shape [4, 2, 3]
      const want = [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23];
      await check(b, (on) => lh.transpose(on(iota234, shape), [2, 0, 1]), { shape: [4, 2, 3], data: want }, 'T', 0);
    });

    it('transpose [2,3,4] by every permutation and by default (reversed axes), against a restatement', async () => {
      const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], undefined];
      for (const perm of perms) {
        const p = perm ?? [2, 1, 0];
        const outShape = p.map((a) => shape[a]);
        // out[o] = x[i] with i[p[d]] = o[d]
        const want = [...indices(outShape)].map((o) => {
          const i = [0, 0, 0];
          p.forEach((a, d) => {
            i[a] = o[d];
          });
          return iota234[flat(shape, i)];
        });
        await check(b, (on) => lh.transpose(on(iota234, shape), perm), { shape: outShape, data: want }, `T ${perm}`, 0);
      }
    });

    it('concat [2,1,2] and [2,2,2] along axis 1 (hand)', async () => {
      // [[[0,1]], [[2,3]]] ⧺ [[[10,11],[12,13]], [[14,15],[16,17]]] → each block of the first axis joined
      await check(
        b,
        (on) =>
          lh.concat(
            [
              on([0, 1, 2, 3], [2, 1, 2]),
              on(
                range(8).map((v) => v + 10),
                [2, 2, 2],
              ),
            ],
            1,
          ),
        { shape: [2, 3, 2], data: [0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17] },
        'concat',
        0,
      );
    });

    it('concat of three tensors along each axis, against a restatement', async () => {
      for (const axis of [0, 1, 2, -1]) {
        const ax = (axis + 3) % 3;
        const sizes = [1, 2, 3];
        const parts = sizes.map((n, t) => {
          const s = shape.map((d, i) => (i === ax ? n : d));
          return { s, data: range(s[0] * s[1] * s[2]).map((v) => 100 * t + v) };
        });
        const outShape = shape.map((d, i) => (i === ax ? 6 : d));
        // out[o]: the part whose span along ax holds o[ax], at o[ax] minus the sizes before it
        const want = [...indices(outShape)].map((o) => {
          let at = o[ax],
            t = 0;
          while (at >= sizes[t]) at -= sizes[t++];
          const i = o.map((v, d) => (d === ax ? at : v));
          return parts[t].data[flat(parts[t].s, i)];
        });
        await check(
          b,
          (on) =>
            lh.concat(
              parts.map((q) => on(q.data, q.s)),
              axis,
            ),
          { shape: outShape, data: want },
          `concat axis ${axis}`,
          0,
        );
      }
    });

    it('slice [2,3,4] along each axis (hand)', async () => {
      // x[i, j, k] = 12i + 4j + k
      const cases: [number, number, number, Expected][] = [
        [0, 1, 1, { shape: [1, 3, 4], data: range(12).map((v) => v + 12) }], // i = 1: 12 … 23
        [1, 1, 2, { shape: [2, 2, 4], data: [...range(8).map((v) => v + 4), ...range(8).map((v) => v + 16)] }],
        [2, 1, 2, { shape: [2, 3, 2], data: [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22] }], // k = 1, 2
        [-1, 3, 1, { shape: [2, 3, 1], data: [3, 7, 11, 15, 19, 23] }], // k = 3
      ];
      for (const [axis, begin, size, want] of cases)
        await check(b, (on) => lh.slice(on(iota234, shape), axis, begin, size), want, `slice ${axis} ${begin}`, 0);
    });
  });
});
