import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { softmax, type Evaluator } from './batch.js';
import type { ExplainOptions } from './types.js';
import type { Raw } from './gradient-methods.js';
import { weightedLeastSquares } from './linalg.js';

/** [C, H, W] of an input shape (a flat input is one row). */
function chw(shape: readonly number[]): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  return [1, 1, shape.reduce((p, d) => p * d, 1)];
}

/**
 * A group id per element: the given mask (per element, or per pixel of [H, W] repeated over channels), or a grid of
 * superpixels.
 */
export function featureGroups(
  shape: readonly number[],
  mask: Int32Array | undefined,
  cell: number | null,
): { groupOf: Int32Array; groups: number[] } {
  const [C, H, W] = chw(shape),
    per = C * H * W;
  let groupOf: Int32Array;
  if (mask) {
    if (mask.length === per) groupOf = mask;
    else if (mask.length === H * W) groupOf = Int32Array.from({ length: per }, (_, i) => mask[i % (H * W)]);
    else
      fail(
        'INVALID_ARGUMENT',
        `a feature mask of ${mask.length} entries fits neither the input (${per}) nor its pixels (${H * W})`,
        'pass one group id per element or per pixel',
      );
  } else if (cell === null) groupOf = Int32Array.from({ length: per }, (_, i) => i);
  else {
    const gw = Math.ceil(W / cell);
    groupOf = Int32Array.from({ length: per }, (_, i) => {
      const p = i % (H * W);
      return Math.floor(Math.floor(p / W) / cell) * gw + Math.floor((p % W) / cell);
    });
  }
  return { groupOf, groups: [...new Set(groupOf)].sort((a, b) => a - b) };
}

/**
 * Occlusion: a window slides over the image (all channels at once) and is replaced by the baseline; each
 * element's attribution is the mean score drop over the windows covering it.
 */
export async function occlusion(
  ev: Evaluator,
  x: Float32Array,
  base: Float32Array,
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const [C, H, W] = chw(ev.model.inputShape);
  const [wh, ww] = o.window ?? [4, 4],
    [sh, sw] = o.stride ?? o.window ?? [4, 4];
  if (!(wh >= 1 && ww >= 1 && sh >= 1 && sw >= 1 && wh <= H && ww <= W))
    fail(
      'INVALID_ARGUMENT',
      `occlusion window ${wh}×${ww}, stride ${sh}×${sw} does not fit a ${H}×${W} image`,
      'use a window no larger than the image and strides ≥ 1',
    );
  const spots: [number, number][] = [];
  for (let y = 0; y + wh <= H; y += sh) for (let xx = 0; xx + ww <= W; xx += sw) spots.push([y, xx]);
  const inputs = spots.map(([y0, x0]) => {
    const v = Float32Array.from(x);
    for (let c = 0; c < C; c++)
      for (let y = y0; y < y0 + wh; y++)
        for (let xx = x0; xx < x0 + ww; xx++) {
          const i = (c * H + y) * W + xx;
          v[i] = base[i];
        }
    return v;
  });
  const [fx, ...scores] = await ev.scores([x, ...inputs], t);
  const sum = new Float64Array(x.length),
    count = new Float64Array(x.length);
  spots.forEach(([y0, x0], k) => {
    for (let c = 0; c < C; c++)
      for (let y = y0; y < y0 + wh; y++)
        for (let xx = x0; xx < x0 + ww; xx++) {
          const i = (c * H + y) * W + xx;
          sum[i] += fx - scores[k];
          count[i]++;
        }
  });
  return { values: Float32Array.from(sum, (s, i) => (count[i] ? s / count[i] : 0)), score: fx };
}

/** Feature ablation: each group of the feature mask set to the baseline in turn; its elements get the score drop. */
export async function featureAblation(
  ev: Evaluator,
  x: Float32Array,
  base: Float32Array,
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, o.featureMask, null);
  const inputs = groups.map((g) => Float32Array.from(x, (v, i) => (groupOf[i] === g ? base[i] : v)));
  const [fx, ...scores] = await ev.scores([x, ...inputs], t);
  const drop = new Map(groups.map((g, k) => [g, fx - scores[k]]));
  return { values: Float32Array.from(groupOf, (g) => drop.get(g)!), score: fx };
}

/** The feature number (0 … M − 1) of each element. */
const featureOf = (groupOf: Int32Array, index: Map<number, number>) => Int32Array.from(groupOf, (g) => index.get(g)!);

/** The input with the features of `present` from x and the others from the reference. */
function compose(x: Float32Array, ref: Float32Array, feature: Int32Array, present: Uint8Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = present[feature[i]] ? x[i] : ref[i];
  return out;
}

const binomial = (n: number, k: number) => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

/**
 * KernelSHAP: coalitions of features weighted by the Shapley kernel, absent features taken from the baseline
 * (or averaged over a background set), then weighted least squares with Σφ = F(x) − F(∅) built in. When the
 * budget covers every coalition (2^M − 2 of them) they are enumerated with their exact weights, and the result
 * is the exact Shapley values.
 */
export async function kernelShap(
  ev: Evaluator,
  x: Float32Array,
  refs: Float32Array[],
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, o.featureMask, 4);
  const M = groups.length,
    index = new Map(groups.map((g, k) => [g, k])),
    feature = featureOf(groupOf, index);
  const budget = o.samples ?? 2048,
    rng = new Rng(o.seed ?? 0);
  const coalitions: Uint8Array[] = [],
    weights: number[] = [];
  if (M <= 30 && 2 ** M - 2 <= budget) {
    for (let mask = 1; mask < 2 ** M - 1; mask++) {
      const z = Uint8Array.from({ length: M }, (_, j) => (mask >> j) & 1),
        s = z.reduce((a, b) => a + b, 0);
      coalitions.push(z);
      weights.push((M - 1) / (binomial(M, s) * s * (M - s)));
    }
  } else {
    // sizes drawn with probability ∝ (M − 1)/(s(M − s)), members uniformly: every sample then weighs the same
    const sizeW = Array.from({ length: M - 1 }, (_, k) => (M - 1) / ((k + 1) * (M - k - 1)));
    const total = sizeW.reduce((a, b) => a + b, 0);
    for (let n = 0; n < budget; n++) {
      let u = rng.uniform() * total,
        s = 1;
      while (s < M - 1 && u > sizeW[s - 1]) {
        u -= sizeW[s - 1];
        s++;
      }
      const order = Array.from({ length: M }, (_, j) => j);
      for (let j = 0; j < s; j++) {
        const k = j + Math.floor(rng.uniform() * (M - j));
        [order[j], order[k]] = [order[k], order[j]];
      }
      const z = new Uint8Array(M);
      for (let j = 0; j < s; j++) z[order[j]] = 1;
      coalitions.push(z);
      weights.push(1);
    }
  }
  const value = async (zs: Uint8Array[]) => {
    const inputs = zs.flatMap((z) => refs.map((r) => compose(x, r, feature, z)));
    const s = await ev.scores(inputs, t);
    return Float64Array.from(zs, (_, k) => {
      let a = 0;
      for (let r = 0; r < refs.length; r++) a += s[k * refs.length + r];
      return a / refs.length;
    });
  };
  const [fx, f0] = await value([new Uint8Array(M).fill(1), new Uint8Array(M)]);
  const fz = await value(coalitions);
  // eliminate φ_M with the efficiency constraint: y − f0 − z_M·(fx − f0) = Σ_{j<M} φ_j (z_j − z_M)
  const m = M - 1,
    X = new Float64Array(coalitions.length * Math.max(m, 1)),
    y = new Float64Array(coalitions.length);
  coalitions.forEach((z, k) => {
    y[k] = fz[k] - f0 - z[M - 1] * (fx - f0);
    for (let j = 0; j < m; j++) X[k * m + j] = z[j] - z[M - 1];
  });
  const beta = m > 0 ? weightedLeastSquares(X, y, Float64Array.from(weights), m) : new Float64Array(0);
  const phi = new Float64Array(M);
  phi.set(beta);
  phi[M - 1] = fx - f0 - beta.reduce((a, b) => a + b, 0);
  return { values: Float32Array.from(groupOf, (g) => phi[index.get(g)!]), score: fx, baselineScore: f0, delta: 0 };
}

/**
 * LIME: random on/off masks over superpixels, the perturbed input's score, a cosine-distance exponential kernel
 * (width 0.25) and a weighted ridge fit (λ = 1 on the coefficients, the intercept free); each superpixel's
 * coefficient is its elements' attribution.
 */
export async function lime(
  ev: Evaluator,
  x: Float32Array,
  base: Float32Array,
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, o.featureMask, 4);
  const M = groups.length,
    index = new Map(groups.map((g, k) => [g, k])),
    feature = featureOf(groupOf, index);
  const n = o.samples ?? 1000,
    rng = new Rng(o.seed ?? 0);
  const zs = Array.from({ length: n }, (_, k) =>
    k === 0 ? new Uint8Array(M).fill(1) : Uint8Array.from({ length: M }, () => (rng.uniform() < 0.5 ? 1 : 0)),
  );
  const f = await ev.scores(
    zs.map((z) => compose(x, base, feature, z)),
    t,
  );
  const X = new Float64Array(n * (M + 1)),
    w = new Float64Array(n);
  zs.forEach((z, k) => {
    const on = z.reduce((a, b) => a + b, 0);
    const cosine = on === 0 ? 0 : on / Math.sqrt(on * M);
    const d = 1 - cosine;
    w[k] = Math.exp(-(d * d) / (0.25 * 0.25));
    for (let j = 0; j < M; j++) X[k * (M + 1) + j] = z[j];
    X[k * (M + 1) + M] = 1;
  });
  // the ridge on the M coefficients only: a penalised intercept would make the attributions move when a constant
  // is added to the score (the lime package fits with scikit-learn's Ridge, which leaves the intercept free)
  const beta = weightedLeastSquares(X, f, w, M + 1, 1, M);
  return { values: Float32Array.from(groupOf, (g) => beta[index.get(g)!]), score: f[0] };
}

/**
 * RISE: random low-resolution binary masks (7×7 cells, keep probability ½), bilinearly upsampled with a random
 * shift; the saliency is the mask average weighted by the target's probability on the masked input.
 */
export async function rise(ev: Evaluator, x: Float32Array, t: number, o: ExplainOptions): Promise<Raw> {
  const [C, H, W] = chw(ev.model.inputShape);
  const n = o.samples ?? 2000,
    s = 7,
    p = 0.5,
    rng = new Rng(o.seed ?? 0);
  const ch = Math.ceil(H / s),
    cw = Math.ceil(W / s);
  const masks = Array.from({ length: n }, () => {
    const grid = Float32Array.from({ length: (s + 1) * (s + 1) }, () => (rng.uniform() < p ? 1 : 0));
    const dy = Math.floor(rng.uniform() * ch),
      dx = Math.floor(rng.uniform() * cw);
    return Float32Array.from({ length: H * W }, (_, i) => {
      const gy = (Math.floor(i / W) + dy) / ch,
        gx = ((i % W) + dx) / cw;
      const y0 = Math.min(Math.floor(gy), s - 1),
        x0 = Math.min(Math.floor(gx), s - 1),
        fy = gy - y0,
        fx = gx - x0;
      const at = (yy: number, xx: number) => grid[yy * (s + 1) + xx];
      return (
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
        fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
      );
    });
  });
  const scores = await ev.allScores(masks.map((m) => Float32Array.from(x, (v, i) => v * m[i % (H * W)])));
  const sal = new Float64Array(H * W);
  masks.forEach((m, k) => {
    const pr = softmax(scores[k])[t];
    for (let i = 0; i < H * W; i++) sal[i] += (pr * m[i]) / (n * p);
  });
  return { values: Float32Array.from({ length: C * H * W }, (_, i) => sal[i % (H * W)]) };
}
