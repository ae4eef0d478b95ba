import { Rng } from '../../core/rng.js';
import { Evaluator, softmax } from '../batch.js';
import type { Explainable } from '../model.js';
import type { Attribution } from '../types.js';

/** Area under a curve sampled at evenly spaced fractions 0…1 (trapezoids). */
export function auc(ys: ArrayLike<number>): number {
  let a = 0;
  for (let i = 1; i < ys.length; i++) a += (ys[i - 1] + ys[i]) / 2;
  return a / Math.max(1, ys.length - 1);
}

/**
 * Deletion and insertion (Petsiuk et al.): elements in order of decreasing attribution are set to the baseline
 * (deletion: from x) or restored from x (insertion: from the baseline) in `steps` equal parts; the target's
 * probability along the way, and its area. A faithful map makes deletion fall fast (low AUC) and insertion rise
 * fast (high AUC).
 */
export async function deletionInsertion(
  model: Explainable,
  x: Float32Array,
  a: Attribution,
  o: { steps?: number; baseline?: number | Float32Array } = {},
): Promise<{
  deletion: number;
  insertion: number;
  deletionCurve: number[];
  insertionCurve: number[];
  modelCalls: number;
}> {
  const steps = o.steps ?? 16,
    n = x.length;
  const base = typeof o.baseline === 'object' ? o.baseline : new Float32Array(n).fill(o.baseline ?? 0);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => a.values[q] - a.values[p] || p - q);
  const del: Float32Array[] = [],
    ins: Float32Array[] = [];
  for (let s = 0; s <= steps; s++) {
    const k = Math.round((s / steps) * n),
      d = Float32Array.from(x),
      i = Float32Array.from(base);
    for (let j = 0; j < k; j++) {
      d[order[j]] = base[order[j]];
      i[order[j]] = x[order[j]];
    }
    del.push(d);
    ins.push(i);
  }
  const ev = new Evaluator(model);
  const probs = (await ev.allScores([...del, ...ins])).map((s) => softmax(s)[a.target]);
  const deletionCurve = probs.slice(0, steps + 1),
    insertionCurve = probs.slice(steps + 1);
  return {
    deletion: auc(deletionCurve),
    insertion: auc(insertionCurve),
    deletionCurve,
    insertionCurve,
    modelCalls: ev.calls,
  };
}

/**
 * Infidelity (Yeh et al. 2019): E[(Iᵀ·Φ − (F(x) − F(x − I)))²] over Gaussian perturbations I (σ default
 * 0.1·(max − min) of x), with F the target's score.
 */
export async function infidelity(
  model: Explainable,
  x: Float32Array,
  a: Attribution,
  o: { samples?: number; sigma?: number; seed?: number } = {},
): Promise<number> {
  const n = o.samples ?? 32,
    rng = new Rng(o.seed ?? 0);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const sigma = o.sigma ?? 0.1 * (hi - lo || 1);
  const perturbations = Array.from({ length: n }, () => rng.fillNormal(new Float32Array(x.length), 0, sigma));
  const ev = new Evaluator(model);
  const [fx, ...f] = await ev.scores(
    [x, ...perturbations.map((p) => Float32Array.from(x, (v, i) => v - p[i]))],
    a.target,
  );
  let total = 0;
  perturbations.forEach((p, k) => {
    let dot = 0;
    for (let i = 0; i < p.length; i++) dot += p[i] * a.values[i];
    total += (dot - (fx - f[k])) ** 2;
  });
  return total / n;
}
