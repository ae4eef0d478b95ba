import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { repeatEach, type Evaluator } from './batch.js';
import type { BatchExplainOptions } from './types.js';
import { gaussLegendre, riemann } from './quadrature.js';
import { countOf } from './options.js';
import { rowsOf, sumOf, type Job, type Raw } from './job.js';

/**
 * The SmoothGrad family's σ: `noise` as given (absolute, Captum's `stdevs`), else `noiseShare`·(max − min) of the
 * input, else 1 (Captum's NoiseTunnel default).
 */
function noiseSigma(x: Float32Array, o: BatchExplainOptions): number {
  if (o.noise !== undefined) return o.noise;
  if (o.noiseShare === undefined) return 1;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return o.noiseShare * (hi - lo || 1);
}

function noisy(x: Float32Array, sigma: number, rng: Rng): Float32Array {
  const e = rng.fillNormal(new Float32Array(x.length), 0, sigma);
  for (let i = 0; i < x.length; i++) e[i] += x[i];
  return e;
}

export async function saliency(ev: Evaluator, j: Job): Promise<Raw[]> {
  return (await ev.gradients(j.xs, j.ts)).map((g) => ({ values: g.map(Math.abs) }));
}

export async function inputXGradient(ev: Evaluator, j: Job): Promise<Raw[]> {
  return (await ev.gradients(j.xs, j.ts)).map((g, k) => ({ values: g.map((v, i) => v * j.xs[k][i]) }));
}

/**
 * Guided backprop: gradients pass a ReLU only where positive (Captum's convention: ReLUs only); with
 * `guidedActivations: 'all'` tanh, sigmoid and GELU pass only positive gradients too, times their slope.
 */
export async function guidedBackprop(ev: Evaluator, j: Job): Promise<Raw[]> {
  const rule = (j.o.guidedActivations ?? 'relu') === 'relu' ? 'guided' : 'guided-all';
  return (await ev.gradients(j.xs, j.ts, rule)).map((g) => ({ values: g }));
}

/**
 * SmoothGrad (mean gradient), SmoothGrad² (mean square) or VarGrad (variance) over `noiseSamples` Gaussian-noised
 * copies of each input (each input's noise drawn from the seed's stream, as if explained alone).
 */
export async function smoothGrad(ev: Evaluator, j: Job, kind: 'mean' | 'square' | 'var'): Promise<Raw[]> {
  const n = countOf(j.o);
  const inputs = j.xs.flatMap((x) => {
    const sigma = noiseSigma(x, j.o),
      rng = new Rng(j.o.seed ?? 0);
    return Array.from({ length: n }, () => noisy(x, sigma, rng));
  });
  const all = await ev.gradients(inputs, repeatEach(j.ts, n));
  return j.xs.map((x, k) => {
    const m = new Float64Array(x.length),
      s = new Float64Array(x.length);
    for (const g of rowsOf(all, k, n))
      for (let i = 0; i < g.length; i++) {
        m[i] += g[i] / n;
        s[i] += (g[i] * g[i]) / n;
      }
    return {
      values: Float32Array.from(kind === 'mean' ? m : kind === 'square' ? s : s.map((v, i) => v - m[i] * m[i])),
    };
  });
}

/**
 * Integrated gradients along the straight path from the baseline: (x − x′)·∫₀¹ ∇F(x′ + α(x − x′)) dα at `steps`
 * Gauss–Legendre (default) or midpoint Riemann points; delta = Σ attribution − (F(x) − F(x′)). The N·steps path
 * points of a batch go to the model together.
 */
export async function integratedGradients(ev: Evaluator, j: Job): Promise<Raw[]> {
  const n = countOf(j.o),
    base = j.base;
  const { points, weights } = (j.o.integration ?? 'gauss-legendre') === 'riemann' ? riemann(n) : gaussLegendre(n);
  const path = j.xs.flatMap((x) =>
    Array.from(points, (a) => {
      const p = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) p[i] = base[i] + a * (x[i] - base[i]);
      return p;
    }),
  );
  const all = await ev.gradients(path, repeatEach(j.ts, n));
  const ends = await ev.scores(
    j.xs.flatMap((x) => [x, base]),
    repeatEach(j.ts, 2),
  );
  return j.xs.map((x, k) => {
    const acc = new Float64Array(x.length);
    rowsOf(all, k, n).forEach((g, s) => {
      for (let i = 0; i < g.length; i++) acc[i] += weights[s] * g[i];
    });
    const values = Float32Array.from(acc, (v, i) => v * (x[i] - base[i]));
    const [fx, fb] = [ends[2 * k], ends[2 * k + 1]];
    return { values, delta: sumOf(values) - (fx - fb), score: fx, baselineScore: fb };
  });
}

/** DeepLIFT with the rescale rule (multipliers through each activation); delta as for IG. */
export async function deepLift(ev: Evaluator, j: Job): Promise<Raw[]> {
  const dl =
    ev.model.deeplift ??
    fail(
      'INVALID_ARGUMENT',
      'DeepLIFT needs a network of layers',
      'explain a Sequential model (backprop or tpsgd), or use a perturbation method',
    );
  const per = ev.per,
    targets = Int32Array.from(j.ts);
  const values = await ev.chunks(j.xs, async (x, n, from) => {
    const base = new Float32Array(n * per);
    for (let i = 0; i < n; i++) base.set(j.base, i * per);
    const v = await dl.call(ev.model, x, base, n, targets.subarray(from, from + n));
    ev.calls += n; // the baseline's half of the pass; `chunks` counts the inputs'
    return Array.from({ length: n }, (_, i) => v.slice(i * per, (i + 1) * per));
  });
  const ends = await ev.scores(
    j.xs.flatMap((x) => [x, j.base]),
    repeatEach(j.ts, 2),
  );
  return values.map((v, k) => {
    const [fx, fb] = [ends[2 * k], ends[2 * k + 1]];
    return { values: v, delta: sumOf(v) - (fx - fb), score: fx, baselineScore: fb };
  });
}

/**
 * GradientSHAP (expected gradients): the mean over `nSamples` samples of (x − b)·∇F(b + α(x − b) + ε), b drawn
 * from the background set (or the baseline), α ~ U(0, 1), ε ~ N(0, σ²) (σ default 0).
 */
export async function gradientShap(ev: Evaluator, j: Job): Promise<Raw[]> {
  const n = countOf(j.o),
    sigma = j.o.noise ?? 0,
    background = j.refs;
  // Captum's convention: the noise goes on x first, x̃ = x + ε, which then serves both the point b + α(x̃ − b) and
  // the factor (x̃ − b)
  const picks: Float32Array[] = [],
    inputs: Float32Array[] = [],
    points: Float32Array[] = [];
  for (const x of j.xs) {
    const rng = new Rng(j.o.seed ?? 0);
    const mine = Array.from({ length: n }, () => background[Math.floor(rng.uniform() * background.length)]);
    for (const b of mine) {
      const a = rng.uniform();
      const xt = sigma ? noisy(x, sigma, rng) : x;
      picks.push(b);
      inputs.push(xt);
      points.push(Float32Array.from(xt, (v, i) => b[i] + a * (v - b[i])));
    }
  }
  const all = await ev.gradients(points, repeatEach(j.ts, n));
  const scores = await ev.scores(
    j.xs.flatMap((x) => [x, ...background]),
    repeatEach(j.ts, 1 + background.length),
  );
  return j.xs.map((x, k) => {
    const acc = new Float64Array(x.length);
    for (let s = k * n; s < (k + 1) * n; s++) {
      const g = all[s],
        b = picks[s],
        xt = inputs[s];
      for (let i = 0; i < g.length; i++) acc[i] += (g[i] * (xt[i] - b[i])) / n;
    }
    const values = Float32Array.from(acc);
    const mine = rowsOf([...scores], k, 1 + background.length);
    const fb = mine.slice(1).reduce((a, b) => a + b, 0) / background.length;
    return { values, delta: sumOf(values) - (mine[0] - fb), score: mine[0], baselineScore: fb };
  });
}
