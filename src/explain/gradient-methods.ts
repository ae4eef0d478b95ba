import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import type { Evaluator } from './batch.js';
import type { ExplainOptions } from './types.js';
import { gaussLegendre, riemann } from './quadrature.js';

/** What a method returns before the common fields are added. */
export interface Raw {
  values: Float32Array;
  delta?: number;
  score?: number;
  baselineScore?: number;
  /** The class, where the method picked it (−1 asked for the predicted one). */
  target?: number;
  /** KernelSHAP: every coalition enumerated; when sampled, each element's standard error. */
  exact?: boolean;
  standardError?: Float32Array;
  /** Occlusion: how many windows covered each element. */
  coverage?: Int32Array;
}

const sumOf = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
};

/**
 * The SmoothGrad family's σ: `noise` as given (absolute, Captum's `stdevs`), else `noiseShare`·(max − min) of the
 * input, else 1 (Captum's NoiseTunnel default).
 */
function noiseSigma(x: Float32Array, o: ExplainOptions): number {
  for (const name of ['noise', 'noiseShare'] as const) {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0))
      fail('INVALID_ARGUMENT', `${name} ${String(v)} is not a finite number ≥ 0`, `pass e.g. ${name}: 0.15`);
  }
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

export async function saliency(ev: Evaluator, x: Float32Array, t: number): Promise<Raw> {
  const [g] = await ev.gradients([x], t);
  return { values: g.map(Math.abs) };
}

export async function inputXGradient(ev: Evaluator, x: Float32Array, t: number): Promise<Raw> {
  const [g] = await ev.gradients([x], t);
  return { values: g.map((v, i) => v * x[i]) };
}

/**
 * Guided backprop: gradients pass a ReLU only where positive (Captum's convention: ReLUs only); with
 * `guidedActivations: 'all'` tanh, sigmoid and GELU pass only positive gradients too, times their slope.
 */
export async function guidedBackprop(ev: Evaluator, x: Float32Array, t: number, o: ExplainOptions): Promise<Raw> {
  const which = o.guidedActivations ?? 'relu';
  if (which !== 'relu' && which !== 'all')
    fail(
      'INVALID_ARGUMENT',
      `guidedActivations ${JSON.stringify(which)} is neither 'relu' nor 'all'`,
      "pass guidedActivations: 'relu' (Captum's convention) or 'all'",
    );
  const [g] = await ev.gradients([x], t, which === 'relu' ? 'guided' : 'guided-all');
  return { values: g };
}

/** SmoothGrad (mean gradient), SmoothGrad² (mean square) or VarGrad (variance) over Gaussian-noised copies of x. */
export async function smoothGrad(
  ev: Evaluator,
  x: Float32Array,
  t: number,
  o: ExplainOptions,
  kind: 'mean' | 'square' | 'var',
): Promise<Raw> {
  const n = o.samples ?? 50,
    sigma = noiseSigma(x, o),
    rng = new Rng(o.seed ?? 0);
  const grads = await ev.gradients(
    Array.from({ length: n }, () => noisy(x, sigma, rng)),
    t,
  );
  const m = new Float64Array(x.length),
    s = new Float64Array(x.length);
  for (const g of grads)
    for (let i = 0; i < g.length; i++) {
      m[i] += g[i] / n;
      s[i] += (g[i] * g[i]) / n;
    }
  return { values: Float32Array.from(kind === 'mean' ? m : kind === 'square' ? s : s.map((v, i) => v - m[i] * m[i])) };
}

/**
 * Integrated gradients along the straight path from the baseline: (x − x′)·∫₀¹ ∇F(x′ + α(x − x′)) dα by
 * Gauss–Legendre (default) or midpoint Riemann points; delta = Σ attribution − (F(x) − F(x′)).
 */
export async function integratedGradients(
  ev: Evaluator,
  x: Float32Array,
  base: Float32Array,
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const n = o.samples ?? 64;
  const { points, weights } = (o.integration ?? 'gauss-legendre') === 'riemann' ? riemann(n) : gaussLegendre(n);
  const path = Array.from(points, (a) => {
    const p = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) p[i] = base[i] + a * (x[i] - base[i]);
    return p;
  });
  const grads = await ev.gradients(path, t);
  const acc = new Float64Array(x.length);
  grads.forEach((g, k) => {
    for (let i = 0; i < g.length; i++) acc[i] += weights[k] * g[i];
  });
  const values = Float32Array.from(acc, (v, i) => v * (x[i] - base[i]));
  const [fx, fb] = await ev.scores([x, base], t);
  return { values, delta: sumOf(values) - (fx - fb), score: fx, baselineScore: fb };
}

/** DeepLIFT with the rescale rule (multipliers through each activation); delta as for IG. */
export async function deepLift(ev: Evaluator, x: Float32Array, base: Float32Array, t: number): Promise<Raw> {
  const dl =
    ev.model.deeplift ??
    fail(
      'INVALID_ARGUMENT',
      'DeepLIFT needs a network of layers',
      'explain a Sequential model (backprop or tpsgd), or use a perturbation method',
    );
  const values = await dl.call(ev.model, x, base, 1, Int32Array.of(t));
  ev.calls += 2;
  const [fx, fb] = await ev.scores([x, base], t);
  return { values, delta: sumOf(values) - (fx - fb), score: fx, baselineScore: fb };
}

/**
 * GradientSHAP (expected gradients): the mean over samples of (x − b)·∇F(b + α(x − b) + ε), b drawn from the
 * background set (or the baseline), α ~ U(0, 1), ε ~ N(0, σ²) (σ default 0).
 */
export async function gradientShap(
  ev: Evaluator,
  x: Float32Array,
  background: Float32Array[],
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const n = o.samples ?? 50,
    rng = new Rng(o.seed ?? 0),
    sigma = o.noise ?? 0;
  const picks = Array.from({ length: n }, () => background[Math.floor(rng.uniform() * background.length)]);
  // Captum's convention: the noise goes on x first, x̃ = x + ε, which then serves both the point b + α(x̃ − b) and
  // the factor (x̃ − b)
  const inputs: Float32Array[] = [];
  const points = picks.map((b) => {
    const a = rng.uniform();
    const xt = sigma ? noisy(x, sigma, rng) : x;
    inputs.push(xt);
    return Float32Array.from(xt, (v, i) => b[i] + a * (v - b[i]));
  });
  const grads = await ev.gradients(points, t);
  const acc = new Float64Array(x.length);
  grads.forEach((g, k) => {
    const b = picks[k],
      xt = inputs[k];
    for (let i = 0; i < g.length; i++) acc[i] += (g[i] * (xt[i] - b[i])) / n;
  });
  const values = Float32Array.from(acc);
  const scores = await ev.scores([x, ...background], t);
  const fb = scores.slice(1).reduce((a, b) => a + b, 0) / background.length;
  return { values, delta: sumOf(values) - (scores[0] - fb), score: scores[0], baselineScore: fb };
}
