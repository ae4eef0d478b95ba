import { Rng } from '../core/rng.js';
import { repeatEach, type Evaluator } from './batch.js';
import { countOf } from './options.js';
import type { Job, Raw } from './job.js';
import { weightedLeastSquares } from './linalg.js';
import { compose, featureGroups, featureOf } from './features.js';
import { planCoalitions } from './shapley-coalitions.js';

/** Bootstrap replicates behind a sampled KernelSHAP's standard errors. */
const replicates = 16;

/**
 * φ from the weighted regression with Σφ = F(x) − F(∅) built in: φ_M eliminated,
 * y − f0 − z_M·(fx − f0) = Σ_{j<M} φ_j (z_j − z_M) (as shap's KernelExplainer solves it).
 */
function shapleyFit(
  coalitions: Uint8Array[],
  fz: Float64Array,
  weights: Float64Array,
  fx: number,
  f0: number,
): Float64Array {
  const M = coalitions[0]?.length ?? 1,
    m = M - 1;
  const phi = new Float64Array(M);
  if (m === 0) {
    phi[0] = fx - f0;
    return phi;
  }
  const X = new Float64Array(coalitions.length * m),
    y = new Float64Array(coalitions.length);
  coalitions.forEach((z, k) => {
    y[k] = fz[k] - f0 - z[M - 1] * (fx - f0);
    for (let j = 0; j < m; j++) X[k * m + j] = z[j] - z[M - 1];
  });
  const beta = weightedLeastSquares(X, y, weights, m);
  phi.set(beta);
  phi[M - 1] = fx - f0 - beta.reduce((a, b) => a + b, 0);
  return phi;
}

/**
 * KernelSHAP: coalitions of features weighted by the Shapley kernel, absent features taken from the baseline
 * (or averaged over a background set), then weighted least squares with Σφ = F(x) − F(∅) built in. When the
 * budget covers every coalition (2^M − 2 of them) they are enumerated with their exact weights and the result is
 * the exact Shapley values (`exact: true`); otherwise the coalitions are shap's KernelExplainer's (whole sizes
 * from the smallest pair inward, the rest sampled with complements: `planCoalitions`) and each feature gets a
 * bootstrap standard error over the random draws. No L1 feature selection (shap's `l1_reg=False`).
 */
export async function kernelShap(ev: Evaluator, j: Job): Promise<Raw[]> {
  const { groupOf, groups } = featureGroups(ev.model.inputShape, j.o.featureMask, 4);
  const M = groups.length,
    index = new Map(groups.map((g, k) => [g, k])),
    feature = featureOf(groupOf, index),
    refs = j.refs,
    R = refs.length;
  // every input draws the seed's coalitions (and its bootstrap after them), as if explained alone
  const rng = new Rng(j.o.seed ?? 0);
  const plan = planCoalitions(M, countOf(j.o), rng);
  const zs = [new Uint8Array(M).fill(1), new Uint8Array(M), ...plan.coalitions];
  const s = await ev.scores(
    j.xs.flatMap((x) => zs.flatMap((z) => refs.map((r) => compose(x, r, feature, z)))),
    repeatEach(j.ts, zs.length * R),
  );
  const perElement = (v: ArrayLike<number>) => Float32Array.from(groupOf, (g) => v[index.get(g)!]);
  const after = rng.getState();
  const resume = () => {
    const r = new Rng();
    r.setState(after);
    return r;
  };
  return j.xs.map((_, k) => {
    // each coalition's value: the mean over the references
    const v = Float64Array.from(zs, (_, r) => {
      let a = 0;
      for (let b = 0; b < R; b++) a += s[(k * zs.length + r) * R + b];
      return a / R;
    });
    const [fx, f0] = [v[0], v[1]],
      fz = v.subarray(2);
    const phi = shapleyFit(plan.coalitions, fz, plan.weights, fx, f0);
    const raw: Raw = { values: perElement(phi), score: fx, baselineScore: f0, delta: 0, exact: plan.exact };
    if (!plan.exact) raw.standardError = perElement(bootstrapError(plan, fz, fx, f0, resume()));
    return raw;
  });
}

/**
 * Each feature's standard error: the spread of φ over fits whose random draws are resampled with replacement
 * (enumerated coalitions kept), the draws' counts again scaled to the sampled share of the kernel weight.
 */
function bootstrapError(
  plan: ReturnType<typeof planCoalitions>,
  fz: Float64Array,
  fx: number,
  f0: number,
  rng: Rng,
): Float64Array {
  const M = plan.coalitions[0].length,
    D = plan.draws.length;
  const sum = new Float64Array(M),
    sq = new Float64Array(M);
  for (let b = 0; b < replicates; b++) {
    const w = Float64Array.from(plan.weights, (v, r) => (r < plan.enumerated ? v : 0));
    let counted = 0;
    for (let d = 0; d < D; d++)
      for (const r of plan.draws[Math.floor(rng.uniform() * D)]) {
        w[r]++;
        counted++;
      }
    for (let r = plan.enumerated; r < w.length; r++) w[r] *= plan.sampledWeight / counted;
    const phi = shapleyFit(plan.coalitions, fz, w, fx, f0);
    for (let j = 0; j < M; j++) {
      sum[j] += phi[j];
      sq[j] += phi[j] * phi[j];
    }
  }
  return sum.map((s, j) => Math.sqrt(Math.max(0, (sq[j] - (s * s) / replicates) / (replicates - 1))));
}
