/**
 * Known answers for the attribution methods the README names beyond the basics: SmoothGrad², VarGrad,
 * GradientSHAP, LIME, RISE, Grad-CAM++, Smooth Grad-CAM++ and NormGrad. Each runs on a small network whose
 * weights the test sets and is compared with a float64 restatement of the method's published definition; the
 * random draws (noise, backgrounds, coalitions) are re-drawn from the seed with the public Rng, or — RISE's masks —
 * read back from the inputs the model was shown.
 */
import { describe, expect, it } from 'vitest';
import { type Backend, type Explainable, explain, fromSequential, nn, Rng } from '../../../src/index.js';
import { expectClose, js, maxAbs, wasmRelaxed } from '../helpers.js';

const backends: [string, Backend][] = [
  ['js', js],
  ['wasm relaxed', wasmRelaxed],
];

/** Deterministic float32 values in [lo, hi): what the model holds and the restatement reads. */
const values = (seed: number, n: number, lo: number, hi: number) =>
  new Rng(seed).fillUniform(new Float32Array(n), lo, hi);

/** x·W + b in float64, W [in, out] row-major as the dense layer stores it. */
function affine(x: ArrayLike<number>, W: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out.length; o++) out[o] += x[i] * W[i * out.length + o];
  return out;
}

/** W·d: the VJP of x·W for an output gradient d. */
function back(d: ArrayLike<number>, W: ArrayLike<number>, inputs: number): Float64Array {
  const out = new Float64Array(inputs);
  for (let i = 0; i < inputs; i++) for (let o = 0; o < d.length; o++) out[i] += W[i * d.length + o] * d[o];
  return out;
}

const softmax = (z: ArrayLike<number>) => {
  const m = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/**
 * dense(h) → tanh → dense(K) on a flat input, with its float64 scores and input gradient; `seq` builds the same
 * network as a Sequential (after a flatten when the input is an image).
 */
function tanhNet(seed: number, input: number[], h: number, K: number, gain = 0.8) {
  const n = input.reduce((p, d) => p * d, 1);
  const W1 = values(seed, n * h, -gain, gain),
    b1 = values(seed + 1, h, -0.3, 0.3),
    W2 = values(seed + 2, h * K, -1, 1),
    b2 = values(seed + 3, K, -0.3, 0.3);
  const image = input.length > 1;
  const at = image ? 1 : 0;
  return {
    b2,
    scores: (x: ArrayLike<number>) => affine(affine(x, W1, b1).map(Math.tanh), W2, b2),
    grad(x: ArrayLike<number>, t: number): Float64Array {
      const z = affine(x, W1, b1);
      return back(
        z.map((v, j) => (1 - Math.tanh(v) ** 2) * W2[j * K + t]),
        W1,
        n,
      );
    },
    seq(backend: Backend) {
      const m = new nn.Sequential(
        {
          input,
          layers: [
            ...(image ? [{ type: 'flatten' as const }] : []),
            { type: 'dense', units: h },
            { type: 'tanh' },
            { type: 'dense', units: K },
          ],
        },
        { backend, rng: new Rng(0) },
      );
      m.setParams({ [`${at}.weight`]: W1, [`${at}.bias`]: b1, [`${at + 2}.weight`]: W2, [`${at + 2}.bias`]: b2 });
      return m;
    },
  };
}

/** flatten → dense(K): its gradient is the weight column, exactly, in float32 too (one-hot times W). */
function linearNet(seed: number, input: number[], K: number) {
  const n = input.reduce((p, d) => p * d, 1);
  const W = values(seed, n * K, -1, 1),
    b = values(seed + 1, K, -0.5, 0.5);
  return {
    W,
    b,
    column: (t: number) => Float64Array.from({ length: n }, (_, i) => W[i * K + t]),
    scores: (x: ArrayLike<number>) => affine(x, W, b),
    seq(backend: Backend) {
      const m = new nn.Sequential(
        { input, layers: [{ type: 'flatten' }, { type: 'dense', units: K }] },
        { backend, rng: new Rng(0) },
      );
      m.setParams({ '1.weight': W, '1.bias': b });
      return m;
    },
  };
}

describe('SmoothGrad² and VarGrad (Adebayo et al.: mean and variance of the squared noisy gradient)', () => {
  it('on a linear model SmoothGrad² = w² and VarGrad = 0 whatever the noise', { tags: ['hand-computed'] }, async () => {
    const net = linearNet(21, [6], 2);
    const x = values(22, 6, -1, 1);
    const w2 = Array.from(net.column(1), (v) => v * v);
    for (const [name, backend] of backends) {
      const m = net.seq(backend);
      const sq = await explain(m, x, { method: 'smoothgrad-sq', target: 1, noise: 0.7, samples: 20, seed: 3 });
      // every noisy gradient is exactly w (float32 w times a one-hot); the mean of 20 equal squares in float64
      // rounds once to float32: 6e-8 relative
      expectClose(sq.values, w2, 2e-7, 0, `${name} SmoothGrad²`);
      const vg = await explain(m, x, { method: 'vargrad', target: 1, noise: 0.7, samples: 20, seed: 3 });
      // E[g²] − E[g]² of equal gradients cancels to float64 rounding, ~20·2⁻⁵³·w² < 1e-14
      expectClose(vg.values, new Float64Array(6), 0, 1e-12, `${name} VarGrad`);
    }
  });

  it('on a tanh network they equal a float64 restatement over the same noisy copies', {
    tags: ['hand-computed'],
  }, async () => {
    const net = tanhNet(31, [6], 4, 2);
    const x = values(32, 6, -1, 1);
    const n = 24,
      sigma = 0.6,
      seed = 5,
      t = 0;
    // the SmoothGrad family draws x + N(0, σ²) element by element from Rng(seed), in float32
    const rng = new Rng(seed);
    const grads = Array.from({ length: n }, () => {
      const e = rng.fillNormal(new Float32Array(x.length), 0, sigma);
      for (let i = 0; i < x.length; i++) e[i] += x[i];
      return net.grad(e, t);
    });
    const mean = new Float64Array(x.length),
      square = new Float64Array(x.length);
    for (const g of grads)
      for (let i = 0; i < g.length; i++) {
        mean[i] += g[i] / n;
        square[i] += (g[i] * g[i]) / n;
      }
    const variance = square.map((s, i) => s - mean[i] ** 2);
    // the variance is a sizeable share of the square here, so the cancellation below costs little precision
    expect(Math.min(...variance.map((v, i) => v / square[i]))).toBeGreaterThan(0.05);
    for (const [name, backend] of backends) {
      const m = net.seq(backend);
      const o = { target: t, noise: sigma, samples: n, seed };
      const sq = await explain(m, x, { method: 'smoothgrad-sq', ...o });
      const vg = await explain(m, x, { method: 'vargrad', ...o });
      // float32 gradients (a tanh and two 4-term sums) carry a few 1e-7 relative error; squares double it and the
      // variance subtracts two such numbers: 2e-6 of the largest square bounds both (seen: under 1e-7)
      const atol = 2e-6 * maxAbs(square);
      expectClose(sq.values, square, 2e-6, atol, `${name} SmoothGrad²`);
      expectClose(vg.values, variance, 2e-6, atol, `${name} VarGrad`);
    }
  });
});

describe('GradientSHAP (Lundberg & Lee; Captum: the mean over samples of (x − b)·∇F(b + α(x − b)))', () => {
  it('on a linear model with one background it is w·(x − b) exactly, and complete', {
    tags: ['hand-computed'],
  }, async () => {
    const net = linearNet(41, [2, 3], 3);
    const x = values(42, 6, -1, 1),
      b = values(43, 6, -1, 1);
    const expected = Array.from(net.column(2), (w, i) => w * (x[i] - b[i]));
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, { method: 'gradient-shap', target: 2, background: [b], seed: 9 });
      // the gradient is w at every α, so each sample is exactly w·(x − b): float32 rounding of the mean only
      expectClose(a.values, expected, 1e-6, 1e-7, `${name} GradientSHAP`);
      // Σφ = F(x) − F(b) for a linear F; both scores are float32 sums of six products (~1e-6 of their size)
      expect(Math.abs(a.delta!)).toBeLessThan(1e-5);
      expect(Math.abs(a.score! - a.baselineScore!)).toBeGreaterThan(0.1);
    }
  });

  it('with input noise, as Captum: x̃ = x + ε serves the point and the factor (x̃ − b), so b = x gives ε·w', {
    tags: ['hand-computed'],
  }, async () => {
    const net = linearNet(44, [2, 3], 3);
    const x = values(45, 6, -1, 1);
    const n = 8,
      sigma = 0.5;
    // the same draws: n background picks (one background: always it), then per sample α and the noise ε
    const rng = new Rng(3);
    for (let k = 0; k < n; k++) rng.uniform();
    const meanNoise = new Float64Array(6);
    for (let k = 0; k < n; k++) {
      rng.uniform();
      const e = rng.fillNormal(new Float32Array(6), 0, sigma);
      for (let i = 0; i < 6; i++) meanNoise[i] += e[i] / n;
    }
    const expected = Array.from(net.column(2), (w, i) => w * meanNoise[i]);
    expect(maxAbs(expected)).toBeGreaterThan(0.01); // the old placement (noise after the interpolation) gave 0 here
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, {
        method: 'gradient-shap',
        target: 2,
        background: [x],
        noise: sigma,
        samples: n,
        seed: 3,
      });
      // w·(x̃ − x) per sample in float32: rounding of x + ε and of the mean
      expectClose(a.values, expected, 1e-5, 1e-6, `${name} GradientSHAP with noise`);
    }
  });

  // The tanh case without input noise (the default), where every convention agrees.
  it('on a tanh network with three backgrounds it equals a float64 restatement of the same draws', {
    tags: ['hand-computed'],
  }, async () => {
    const net = tanhNet(51, [6], 5, 3);
    const x = values(52, 6, -1, 1);
    const background = [values(53, 6, -1, 1), values(54, 6, -1, 1), values(55, 6, -0.2, 0.2)];
    const n = 30,
      seed = 11,
      t = 1;
    // draws in the documented order: n background picks, then α ~ U(0, 1) per sample
    const rng = new Rng(seed);
    const picks = Array.from({ length: n }, () => background[Math.floor(rng.uniform() * background.length)]);
    const expected = new Float64Array(6);
    for (const b of picks) {
      const a = rng.uniform();
      const g = net.grad(
        Float32Array.from(x, (v, i) => b[i] + a * (v - b[i])),
        t,
      );
      for (let i = 0; i < 6; i++) expected[i] += (g[i] * (x[i] - b[i])) / n;
    }
    // the three backgrounds were all picked, so the expectation over them is really exercised
    expect(new Set(picks).size).toBe(3);
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, {
        method: 'gradient-shap',
        target: t,
        background,
        samples: n,
        seed,
      });
      // float32 points and gradients: a few 1e-7 relative per sample; 2e-6 of the largest value covers the mean of
      // 30 (seen: under 1e-8)
      expectClose(a.values, expected, 2e-6, 2e-6 * maxAbs(expected), `${name} GradientSHAP`);
    }
  });
});

/** Solves A·β = r (A [m, m], small and well conditioned here) by Gaussian elimination with partial pivoting. */
function gauss(A: Float64Array, r: Float64Array, m: number): Float64Array {
  const a = Float64Array.from(A),
    y = Float64Array.from(r);
  for (let c = 0; c < m; c++) {
    let piv = c;
    for (let k = c + 1; k < m; k++) if (Math.abs(a[k * m + c]) > Math.abs(a[piv * m + c])) piv = k;
    for (let k = 0; k < m; k++) [a[c * m + k], a[piv * m + k]] = [a[piv * m + k], a[c * m + k]];
    [y[c], y[piv]] = [y[piv], y[c]];
    for (let k = c + 1; k < m; k++) {
      const f = a[k * m + c] / a[c * m + c];
      for (let q = c; q < m; q++) a[k * m + q] -= f * a[c * m + q];
      y[k] -= f * y[c];
    }
  }
  const beta = new Float64Array(m);
  for (let c = m - 1; c >= 0; c--) {
    let s = y[c];
    for (let q = c + 1; q < m; q++) s -= a[c * m + q] * beta[q];
    beta[c] = s / a[c * m + c];
  }
  return beta;
}

/** Four 2×2 superpixels of a 4×4 image. */
const quadrants = Int32Array.from({ length: 16 }, (_, p) => 2 * Math.floor(p / 8) + Math.floor((p % 4) / 2));

/**
 * LIME as Ribeiro et al. define it for images, restated in float64 over the same coalitions: z ∈ {0, 1}^M over
 * superpixels (the first sample all ones, the rest fair coin flips from Rng(seed)), off superpixels from the
 * baseline, proximity π(z) = exp(−D(z)²/σ²) with D the cosine distance to the all-ones z and σ = 0.25, and the
 * weighted least-squares fit of f(z) by β·z + β₀ with a ridge λ on β (β₀ free, as the lime package's Ridge).
 * Returns β (β₀ last) and two bounds from the weighted Gram matrix G: a ridge on any subset D of the coefficients
 * moves the unpenalised fit β* by λ‖(G + λD)⁻¹Dβ*‖ ≤ λ‖G⁻¹‖‖β*‖ (G + λD ⪰ G), and penalising β₀ as well moves
 * this fit by λ‖(G + λI)⁻¹‖·|β₀|; both norms bounded by the Frobenius norm.
 */
function limeRestated(
  f: (x: ArrayLike<number>) => number,
  x: Float32Array,
  base: Float32Array,
  mask: Int32Array,
  o: { M: number; n: number; seed: number; lambda: number; width?: number },
): { ols: Float64Array; beta: Float64Array; ridgeShift: number } {
  const { M, n, seed, lambda, width = 0.25 } = o,
    m = M + 1;
  const rng = new Rng(seed);
  const G = new Float64Array(m * m),
    r = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    const z = Uint8Array.from({ length: M }, () => (k === 0 ? 1 : rng.uniform() < 0.5 ? 1 : 0));
    const on = z.reduce((a, b) => a + b, 0);
    const d = on === 0 ? 1 : 1 - on / Math.sqrt(on * M);
    const pi = Math.exp(-(d * d) / width ** 2);
    const fz = f(Float32Array.from(x, (v, i) => (z[mask[i % mask.length]] ? v : base[i])));
    const row = [...z, 1];
    for (let p = 0; p < m; p++) {
      r[p] += pi * row[p] * fz;
      for (let q = 0; q < m; q++) G[p * m + q] += pi * row[p] * row[q];
    }
  }
  const ridged = (penalised: number) =>
    G.map((v, i) => (i % (m + 1) === 0 && i / (m + 1) < penalised ? v + lambda : v));
  const inverseNorm = (S: Float64Array) => {
    let sum = 0;
    for (let k = 0; k < m; k++)
      for (const v of gauss(
        S,
        Float64Array.from({ length: m }, (_, q) => (q === k ? 1 : 0)),
        m,
      ))
        sum += v * v;
    return Math.sqrt(sum);
  };
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((a, u) => a + u * u, 0));
  const ols = gauss(G, r, m),
    beta = gauss(ridged(M), r, m);
  return {
    ols,
    beta,
    ridgeShift: lambda * inverseNorm(G) * norm(ols),
  };
}

/** The attribution of each superpixel (its elements all carry it). */
const perGroup = (v: Float32Array, mask: Int32Array, M: number) =>
  Array.from({ length: M }, (_, g) => v[mask.indexOf(g)]);

describe('LIME (Ribeiro et al.: a proximity-weighted linear surrogate over superpixels)', () => {
  it('on a linear model each superpixel gets its contribution Σ w·(x − x′), to within what the ridge can move it', {
    tags: ['hand-computed'],
  }, async () => {
    const net = linearNet(61, [1, 4, 4], 3);
    const x = values(62, 16, -1, 1),
      base = values(63, 16, -0.2, 0.2);
    const contribution = Array.from({ length: 4 }, (_, g) => {
      let s = 0;
      for (let i = 0; i < 16; i++) if (quadrants[i] === g) s += net.W[i * 3 + 1] * (x[i] - base[i]);
      return s;
    });
    const o = { M: 4, n: 1500, seed: 2, lambda: 1 };
    const ref = limeRestated((v) => net.scores(v)[1], x, base, quadrants, o);
    // f is exactly linear in z, so the unpenalised fit recovers the contributions (and f(x′) as β₀)
    expectClose(ref.ols.subarray(0, 4), contribution, 1e-9, 1e-9, 'restated fit');
    expect(ref.ridgeShift).toBeLessThan(0.1 * maxAbs(contribution));
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, {
        method: 'lime',
        target: 1,
        baseline: base,
        featureMask: quadrants,
        samples: o.n,
        seed: o.seed,
      });
      expectClose(perGroup(a.values, quadrants, 4), contribution, 0, ref.ridgeShift, `${name} LIME`);
      expect(a.modelCalls).toBe(o.n);
    }
  });

  it('on a tanh network it is the proximity-weighted ridge fit of the same coalitions', {
    tags: ['hand-computed'],
  }, async () => {
    const net = tanhNet(64, [1, 4, 4], 4, 3, 2.5);
    const x = values(65, 16, -1, 1),
      base = values(66, 16, -0.2, 0.2),
      t = 0;
    const o = { M: 4, n: 1500, seed: 3, lambda: 1 };
    const ref = limeRestated((v) => net.scores(v)[t], x, base, quadrants, o);
    // float32 scores (~1e-6 of |f|) through a well-conditioned 5×5 solve; β₀ is free, as in the lime package
    const atol = 1e-5 * maxAbs(ref.beta);
    // the fit depends on the proximity kernel here: without it (σ = ∞) the surrogate lands far outside that
    const flat = limeRestated((v) => net.scores(v)[t], x, base, quadrants, { ...o, width: Infinity });
    expect(maxAbs(ref.beta.map((v, k) => v - flat.beta[k]))).toBeGreaterThan(20 * atol);
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, {
        method: 'lime',
        target: t,
        baseline: base,
        featureMask: quadrants,
        samples: o.n,
        seed: o.seed,
      });
      expectClose(perGroup(a.values, quadrants, 4), ref.beta.subarray(0, 4), 0, atol, `${name} LIME`);
    }
  });
});

describe('LIME, invariances', () => {
  it('a constant added to the score moves no attribution (the intercept is not penalised)', {
    tags: ['invariant'],
  }, async () => {
    const net = tanhNet(64, [1, 4, 4], 4, 3, 2.5);
    const model = fromSequential(net.seq(wasmRelaxed));
    // the same network with 10 added to every class score: a surrogate with a free intercept absorbs it
    const shifted: Explainable = {
      ...model,
      scores: async (v, b) => (await model.scores(v, b)).map((s) => s + 10),
    };
    const x = values(65, 16, -1, 1);
    const o = { method: 'lime', target: 0, featureMask: quadrants, samples: 600, seed: 4 } as const;
    const [a, b] = [await explain(model, x, o), await explain(shifted, x, o)];
    // float64 solve of float32 scores near 10: their rounding (~1e-6) is all that may differ
    expectClose(b.values, a.values, 0, 1e-4, 'LIME shifted by 10');
  });
});

describe('RISE (Petsiuk et al.: S = Σ_k P(t | x ⊙ M_k)·M_k / (N·p), p = ½)', () => {
  it('equals the estimator restated over the masks the model was shown, and the masks keep a pixel with p = ½', {
    tags: ['hand-computed'],
  }, async () => {
    const net = linearNet(71, [1, 8, 8], 3);
    // no zero pixel, so each mask is read back from the masked input as (x ⊙ M) / x
    const x = values(72, 64, 0.5, 1.5);
    const N = 1000,
      p = 0.5,
      t = 2;
    for (const [name, backend] of backends) {
      const inner = fromSequential(net.seq(backend));
      const shown: Float32Array[] = [];
      const model: Explainable = {
        inputShape: inner.inputShape,
        classes: inner.classes,
        scores(v, batch) {
          for (let b = 0; b < batch; b++) shown.push(v.slice(b * 64, (b + 1) * 64));
          return inner.scores(v, batch);
        },
      };
      const a = await explain(model, x, { method: 'rise', target: t, samples: N, seed: 4 });
      expect(shown.length).toBe(N);
      const masks = shown.map((v) => Float64Array.from(v, (u, i) => u / x[i]));
      const saliency = new Float64Array(64);
      let sum = 0;
      for (const [k, v] of shown.entries()) {
        const pt = softmax(net.scores(v))[t];
        for (let i = 0; i < 64; i++) {
          saliency[i] += (pt * masks[k][i]) / (N * p);
          sum += masks[k][i] / (N * 64);
        }
      }
      // the logits are float32 sums of 64 products (~1e-6 relative) and the probabilities inherit that
      expectClose(a.values, saliency, 1e-5, 1e-7, `${name} RISE`);
      // smooth masks: every value a convex blend of 0s and 1s (read back to float32 rounding of x ⊙ M)
      expect(Math.min(...masks.map((m) => Math.min(...m)))).toBeGreaterThanOrEqual(-1e-6);
      expect(Math.max(...masks.map((m) => Math.max(...m)))).toBeLessThanOrEqual(1 + 1e-6);
      // E[M_i] = p: one mask's mean has sd ≤ ½, so the mean of N of them is within 4·½/√N of p (≈ 0.063) but
      // for a 6e-5 chance
      expect(Math.abs(sum - p)).toBeLessThan((4 * 0.5) / Math.sqrt(N));
    }
  });
});

/**
 * A CNN whose class-activation quantities are known: input [1, 3, 3] → conv 1×1 with 2 filters (layer 0, the maps
 * A = c·x + d) → flatten → dense(3) → tanh → dense(2). In float64: the maps and the target score's gradient there,
 * ∂S/∂A = V·((1 − tanh²(V·A + e)) ⊙ U_t).
 */
function camNet() {
  const c = Float32Array.of(0.9, -0.6),
    d = Float32Array.of(-0.3, 0.45),
    V = values(81, 18 * 3, -0.25, 0.25),
    e = values(82, 3, -0.2, 0.2),
    U = values(83, 3 * 2, -0.8, 0.8),
    u0 = values(84, 2, -0.2, 0.2);
  const maps = (x: ArrayLike<number>) =>
    Float64Array.from({ length: 18 }, (_, i) => c[Math.floor(i / 9)] * x[i % 9] + d[Math.floor(i / 9)]);
  return {
    maps,
    grad(A: ArrayLike<number>, t: number) {
      const z = affine(A, V, e);
      return back(
        z.map((v, j) => (1 - Math.tanh(v) ** 2) * U[j * 2 + t]),
        V,
        18,
      );
    },
    seq(backend: Backend) {
      const m = new nn.Sequential(
        {
          input: [1, 3, 3],
          layers: [
            { type: 'conv2d', filters: 2, kernel: 1 },
            { type: 'flatten' },
            { type: 'dense', units: 3 },
            { type: 'tanh' },
            { type: 'dense', units: 2 },
          ],
        },
        { backend, rng: new Rng(0) },
      );
      m.setParams({ '0.weight': c, '0.bias': d, '2.weight': V, '2.bias': e, '4.weight': U, '4.bias': u0 });
      return m;
    },
  };
}

/**
 * Grad-CAM++ (Chattopadhyay et al., eq. 19 with Y = exp S): α_kp = g²/(2g² + Σ_ab A_k,ab·g³) from the gradient
 * g = ∂S/∂A_kp, w_k = Σ_p α_kp·relu(g), map = relu(Σ_k w_k A_k). e^S cancels in α and would only scale the map by a
 * positive constant; like pytorch-grad-cam the map is kept without it. Smooth Grad-CAM++ (Omeiza et al.) passes the
 * means of g, g² and g³ over noisy inputs instead.
 */
function gradCamPP(A: Float64Array, g1: Float64Array, g2: Float64Array, g3: Float64Array, C: number) {
  const hw = A.length / C,
    map = new Float64Array(hw),
    alphas: number[] = [];
  for (let k = 0; k < C; k++) {
    let sumA = 0,
      w = 0;
    for (let p = 0; p < hw; p++) sumA += A[k * hw + p];
    for (let p = 0; p < hw; p++) {
      const i = k * hw + p,
        denom = 2 * g2[i] + sumA * g3[i];
      const alpha = g1[i] !== 0 && denom !== 0 ? g2[i] / denom : 0;
      alphas.push(alpha);
      w += alpha * Math.max(g1[i], 0);
    }
    for (let p = 0; p < hw; p++) map[p] += w * A[k * hw + p];
  }
  return { map: map.map((v) => Math.max(v, 0)), alphas, clipped: map.filter((v) => v < 0).length };
}

describe('class activation maps on a hand-built CNN (layer 0, 3×3 maps on a 3×3 input: no resampling)', () => {
  const net = camNet();
  const x = values(85, 9, 0, 1);
  const A = net.maps(x);

  it("Grad-CAM++ equals the paper's α and weights restated in float64", { tags: ['hand-computed'] }, async () => {
    let clipped = 0;
    for (const t of [0, 1]) {
      const g = net.grad(A, t);
      const ref = gradCamPP(
        A,
        g,
        g.map((v) => v ** 2),
        g.map((v) => v ** 3),
        2,
      );
      // the α are far from Grad-CAM's uniform 1/hw and from ½ (the third-order term matters), and the map is not 0
      expect(Math.max(...ref.alphas) - Math.min(...ref.alphas)).toBeGreaterThan(0.05);
      expect(maxAbs(ref.map)).toBeGreaterThan(1e-3);
      clipped += ref.clipped;
      for (const [name, backend] of backends) {
        const a = await explain(net.seq(backend), x, { method: 'grad-cam++', target: t });
        // float32 maps and gradients (a few 1e-7 relative) through a handful of products and one division
        expectClose(a.values, ref.map, 1e-5, 1e-5 * maxAbs(ref.map), `${name} Grad-CAM++ class ${t}`);
      }
    }
    // maps of both signs (A = 0.9x − 0.3 and −0.6x + 0.45): some places are cut by the final relu
    expect(clipped).toBeGreaterThan(0);
  });

  it('NormGrad (Rebuffi et al.) is ‖∂S/∂A_p‖·‖A_p‖ over the channels at each place', {
    tags: ['hand-computed'],
  }, async () => {
    const t = 1,
      g = net.grad(A, t);
    const ref = Array.from({ length: 9 }, (_, p) => Math.hypot(g[p], g[9 + p]) * Math.hypot(A[p], A[9 + p]));
    for (const [name, backend] of backends) {
      const a = await explain(net.seq(backend), x, { method: 'normgrad', target: t });
      expectClose(a.values, ref, 1e-5, 1e-7, `${name} NormGrad`);
    }
  });

  it('Smooth Grad-CAM++ without noise is Grad-CAM++', { tags: ['invariant'] }, async () => {
    for (const [name, backend] of backends) {
      const m = net.seq(backend);
      const plain = await explain(m, x, { method: 'grad-cam++', target: 0 });
      const smooth = await explain(m, x, { method: 'smooth-grad-cam++', target: 0, noise: 0, samples: 5 });
      // five identical passes: the means of g, g², g³ are those of one pass to float64 rounding
      expectClose(smooth.values, plain.values, 1e-6, 1e-9, `${name} noise 0`);
      expect(smooth.modelCalls).toBe(6); // x itself (its maps and class), then the five copies
    }
  });

  it("Smooth Grad-CAM++ weighs x's own feature maps, not a noisy copy's (torch-cam's convention)", {
    tags: ['behaviour'],
  }, async () => {
    for (const [name, backend] of backends) {
      const m = fromSequential(net.seq(backend));
      const rows: Float32Array[] = [];
      const watched: Explainable = {
        ...m,
        layerGradients: (input, batch, targets, layer) => {
          const per = input.length / batch;
          for (let i = 0; i < batch; i++) rows.push(input.slice(i * per, (i + 1) * per));
          return m.layerGradients!(input, batch, targets, layer);
        },
      };
      await explain(watched, x, { method: 'smooth-grad-cam++', target: 0, noise: 0.5, samples: 3 });
      expect(rows, name).toHaveLength(4);
      expect(rows[0], `${name}: the maps' pass is x itself`).toEqual(x);
      expect(
        rows.slice(1).every((r) => r.some((v, i) => v !== x[i])),
        `${name}: then noisy copies`,
      ).toBe(true);
    }
  });

  it('Smooth Grad-CAM++ averages g, g² and g³ over the same noisy inputs (a model with fixed maps and ' +
    'input-dependent gradients)', { tags: ['hand-computed'] }, async () => {
    // a gated model S = Σ_kp A_kp·h_kp(x): its maps A do not move with the input, so the test does not depend on
    // which pass's maps are used; its gradient at the maps, h(x), does
    const C = 2,
      hw = 9,
      fixed = values(91, C * hw, 0.05, 0.3);
    const u = values(92, C * hw, -0.3, 0.3),
      s = values(93, C * hw, -3, 3);
    const h = (v: ArrayLike<number>, t: number) =>
      Float64Array.from(
        { length: C * hw },
        (_, i) => (t === 0 ? 1 : -1) * u[i] * (0.3 + Math.sin(s[i] * v[i % hw] + 0.3)),
      );
    const model: Explainable = {
      inputShape: [1, 3, 3],
      classes: 2,
      mapLayers: [0],
      async scores(v, batch) {
        return Float32Array.from({ length: batch * 2 }, (_, j) => {
          const g = h(v.subarray((j >> 1) * hw, ((j >> 1) + 1) * hw), j & 1);
          return g.reduce((a, gi, i) => a + gi * fixed[i], 0);
        });
      },
      async layerGradients(v, batch, targets) {
        const grad = new Float32Array(batch * C * hw);
        for (let b = 0; b < batch; b++) grad.set(h(v.subarray(b * hw, (b + 1) * hw), targets[b]), b * C * hw);
        const act = new Float32Array(batch * C * hw);
        for (let b = 0; b < batch; b++) act.set(fixed, b * C * hw);
        return { act, grad, shape: [C, 3, 3], targets };
      },
    };
    const n = 12,
      sigma = 1,
      seed = 6,
      t = 0;
    // the noisy copies: x + σ·N(0, 1) element by element from Rng(seed)
    const rng = new Rng(seed);
    const m1 = new Float64Array(C * hw),
      m2 = new Float64Array(C * hw),
      m3 = new Float64Array(C * hw);
    for (let k = 0; k < n; k++) {
      const noisy = Float32Array.from(x, (v) => v + sigma * rng.normal());
      const g = Float64Array.from(Float32Array.from(h(noisy, t)));
      for (let i = 0; i < C * hw; i++) {
        m1[i] += g[i] / n;
        m2[i] += g[i] ** 2 / n;
        m3[i] += g[i] ** 3 / n;
      }
    }
    const A32 = Float64Array.from(fixed);
    const ref = gradCamPP(A32, m1, m2, m3, C);
    // the averaged powers are not powers of the averaged gradient, so this differs from Grad-CAM++ of the mean
    const naive = gradCamPP(
      A32,
      m1,
      m1.map((v) => v ** 2),
      m1.map((v) => v ** 3),
      C,
    );
    expect(maxAbs(ref.map.map((v, i) => v - naive.map[i]))).toBeGreaterThan(0.05 * maxAbs(ref.map));
    const a = await explain(model, x, { method: 'smooth-grad-cam++', target: t, noise: sigma, samples: n, seed });
    // the same float32 gradients as the restatement, float64 arithmetic, one rounding to float32 at the end
    expectClose(a.values, ref.map, 1e-7, 1e-12, 'Smooth Grad-CAM++');
  });
});
