import { Rng } from '../core/rng.js';
import { repeatEach, softmax, type Evaluator } from './batch.js';
import { countOf } from './options.js';
import { rowsOf, type Job, type Raw } from './job.js';
import { weightedLeastSquares } from './linalg.js';
import { chw, compose, featureGroups, featureOf } from './features.js';

/** Feature ablation: each group of the feature mask set to the baseline in turn; its elements get the score drop. */
export async function featureAblation(ev: Evaluator, j: Job): Promise<Raw[]> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, j.o.featureMask, null);
  const rows = 1 + groups.length;
  const all = await ev.scores(
    j.xs.flatMap((x) => [x, ...groups.map((g) => Float32Array.from(x, (v, i) => (groupOf[i] === g ? j.base[i] : v)))]),
    repeatEach(j.ts, rows),
  );
  return j.xs.map((_, k) => {
    const [fx, ...scores] = rowsOf([...all], k, rows);
    const drop = new Map(groups.map((g, i) => [g, fx - scores[i]]));
    return { values: Float32Array.from(groupOf, (g) => drop.get(g)!), score: fx };
  });
}

/**
 * LIME: random on/off masks over superpixels, the perturbed input's score, a cosine-distance exponential kernel
 * (width 0.25) and a weighted ridge fit (λ = 1 on the coefficients, the intercept free); each superpixel's
 * coefficient is its elements' attribution.
 */
export async function lime(ev: Evaluator, j: Job): Promise<Raw[]> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, j.o.featureMask, 4);
  const M = groups.length,
    index = new Map(groups.map((g, k) => [g, k])),
    feature = featureOf(groupOf, index);
  const n = countOf(j.o);
  // every input draws the seed's masks, as if explained alone: the same masks for all
  const rng = new Rng(j.o.seed ?? 0);
  const zs = Array.from({ length: n }, (_, k) =>
    k === 0 ? new Uint8Array(M).fill(1) : Uint8Array.from({ length: M }, () => (rng.uniform() < 0.5 ? 1 : 0)),
  );
  const all = await ev.scores(
    j.xs.flatMap((x) => zs.map((z) => compose(x, j.base, feature, z))),
    repeatEach(j.ts, n),
  );
  const X = new Float64Array(n * (M + 1)),
    w = new Float64Array(n);
  zs.forEach((z, k) => {
    const on = z.reduce((a, b) => a + b, 0);
    const cosine = on === 0 ? 0 : on / Math.sqrt(on * M);
    const d = 1 - cosine;
    w[k] = Math.exp(-(d * d) / (0.25 * 0.25));
    for (let i = 0; i < M; i++) X[k * (M + 1) + i] = z[i];
    X[k * (M + 1) + M] = 1;
  });
  return j.xs.map((_, k) => {
    const f = all.subarray(k * n, (k + 1) * n);
    // the ridge on the M coefficients only: a penalised intercept would make the attributions move when a constant
    // is added to the score (the lime package fits with scikit-learn's Ridge, which leaves the intercept free)
    const beta = weightedLeastSquares(X, f, w, M + 1, 1, M);
    return { values: Float32Array.from(groupOf, (g) => beta[index.get(g)!]), score: f[0] };
  });
}

/**
 * RISE: random low-resolution binary masks (7×7 cells, keep probability ½), bilinearly upsampled with a random
 * shift; the saliency is the mask average weighted by the target's probability on the masked input.
 */
export async function rise(ev: Evaluator, j: Job): Promise<Raw[]> {
  const [C, H, W] = chw(ev.model.inputShape);
  const n = countOf(j.o),
    s = 7,
    p = 0.5,
    rng = new Rng(j.o.seed ?? 0);
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
  const all = await ev.allScores(
    j.xs.flatMap((x) => masks.map((m) => Float32Array.from(x, (v, i) => v * m[i % (H * W)]))),
  );
  return j.xs.map((_, k) => {
    const sal = new Float64Array(H * W);
    masks.forEach((m, r) => {
      const pr = softmax(all[k * n + r])[j.ts[k]];
      for (let i = 0; i < H * W; i++) sal[i] += (pr * m[i]) / (n * p);
    });
    return { values: Float32Array.from({ length: C * H * W }, (_, i) => sal[i % (H * W)]) };
  });
}
