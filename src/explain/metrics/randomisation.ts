import { Rng } from '../../core/rng.js';
import { Sequential } from '../../nn/sequential.js';
import { explain } from '../explain.js';
import type { ExplainOptions } from '../types.js';

/** Spearman's rank correlation (average ranks for ties). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (v: ArrayLike<number>) => {
    const idx = Array.from({ length: v.length }, (_, i) => i).sort((p, q) => v[p] - v[q]);
    const r = new Float64Array(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a),
    rb = rank(b),
    n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n,
    mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

export interface RandomisationResult {
  /**
   * After randomising the layers from the top down to `layer` (cascading), the rank correlation of |Φ| with the trained
   * model's.
   */
  steps: { layer: number; spearman: number }[];
  /** The correlation with every layer randomised. */
  final: number;
  /**
   * True when the method's maps stay alike on a randomised model (above `threshold`): it does not explain the model.
   */
  flagged: boolean;
}

/**
 * The model-randomisation sanity check (Adebayo et al. 2018), cascading: the parametrised layers are
 * re-initialised from the output down, one more each step, and the method's |attribution| on the partly random
 * model is rank-correlated with the trained model's. A method that explains the model loses the correlation.
 */
export async function randomisationCheck(
  model: Sequential,
  x: Float32Array,
  o: ExplainOptions,
  c: { seed?: number; threshold?: number } = {},
): Promise<RandomisationResult> {
  const ref = await explain(model, x, o);
  const absRef = ref.values.map(Math.abs);
  const random = new Sequential(model.spec, { backend: model.backend, rng: new Rng(c.seed ?? 12345) });
  const trained = new Map(
    await Promise.all(
      [...model.namedParams()].map(async ([k, t]) => [k, Float32Array.from((await t.data()) as Float32Array)] as const),
    ),
  );
  const layers = model.layers
    .map((l, i) => (l.params.size ? i : -1))
    .filter((i) => i >= 0)
    .reverse();
  const steps: { layer: number; spearman: number }[] = [];
  const randomValues = new Map(
    await Promise.all(
      [...random.namedParams()].map(
        async ([k, t]) => [k, Float32Array.from((await t.data()) as Float32Array)] as const,
      ),
    ),
  );
  for (let s = 0; s < layers.length; s++) {
    const cut = layers[s]; // layers ≥ cut random, below it trained
    const values: Record<string, Float32Array> = {};
    for (const [k, v] of trained) values[k] = Number(k.split('.')[0]) >= cut ? randomValues.get(k)! : v;
    random.setParams(values);
    const a = await explain(random, x, { ...o, target: ref.target });
    steps.push({ layer: cut, spearman: spearman(absRef, a.values.map(Math.abs)) });
  }
  const final = steps[steps.length - 1]?.spearman ?? 1;
  return { steps, final, flagged: final > (c.threshold ?? 0.5) };
}
