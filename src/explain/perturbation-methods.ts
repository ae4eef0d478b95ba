import { Rng } from '../core/rng.js';
import { softmax, type Evaluator } from './batch.js';
import type { ExplainOptions } from './types.js';
import type { Raw } from './gradient-methods.js';
import { weightedLeastSquares } from './linalg.js';
import { chw, compose, featureGroups, featureOf } from './features.js';

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
