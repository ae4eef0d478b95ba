import { tidy } from '../../core/scope.js';
import { softmax } from '../../ops/index.js';
import { BatchIterator, toTensors, type Normalization } from '../../data/batches.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { LearningRule } from '../rule.js';
import { membershipAttack, miaEfficacy } from './mia.js';

/** The figures of SalUn's tables, as fractions in [0, 1]. */
export interface UnlearningMetrics {
  /** Unlearning accuracy: 1 − accuracy on the forget set. */
  ua: number;
  /** Remaining accuracy: accuracy on the retain set. */
  ra: number;
  /** Test accuracy. */
  ta: number;
  /** MIA-Efficacy: the share of the forget set a confidence MIA (retain = member, test = non-member) calls unseen. */
  mia: number;
}

/** Each sample's predicted-class hit and its confidence in its true label (softmax of the rule's scores). */
export async function scoreSamples(
  rule: LearningRule,
  ds: ImageDataset,
  o: { normalization?: Normalization; batchSize?: number } = {},
): Promise<{ correct: Uint8Array; confidence: Float32Array }> {
  const correct = new Uint8Array(ds.count),
    confidence = new Float32Array(ds.count);
  const it = new BatchIterator(ds, { batchSize: o.batchSize ?? 256, shuffle: false, normalization: o.normalization });
  let at = 0;
  for (const b of it.restOfEpoch()) {
    // predict gives logits or log-probabilities: softmax turns either into probabilities
    const p = tidy(() => softmax(rule.predict(toTensors(b, rule.backend).x)));
    const probs = (await p.data()) as Float32Array;
    p.dispose();
    const c = p.shape[1];
    for (let i = 0; i < b.y.length; i++) {
      const row = probs.subarray(i * c, (i + 1) * c);
      let arg = 0;
      for (let k = 1; k < c; k++) if (row[k] > row[arg]) arg = k;
      correct[at + i] = arg === b.y[i] ? 1 : 0;
      confidence[at + i] = row[b.y[i]];
    }
    at += b.y.length;
  }
  return { correct, confidence };
}

const share = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;

/**
 * UA, RA, TA and MIA-Efficacy of a model after unlearning. The attack is fitted, as in the paper's code, on the first
 * n retain samples (members) and n test samples (non-members), n = the smaller set's size.
 */
export async function unlearningMetrics(
  rule: LearningRule,
  d: { forget: ImageDataset; retain: ImageDataset; test: ImageDataset },
  o: { normalization?: Normalization; batchSize?: number } = {},
): Promise<UnlearningMetrics> {
  const [f, r, t] = [
    await scoreSamples(rule, d.forget, o),
    await scoreSamples(rule, d.retain, o),
    await scoreSamples(rule, d.test, o),
  ];
  const n = Math.min(d.retain.count, d.test.count);
  const attack = membershipAttack(r.confidence.subarray(0, n), t.confidence.subarray(0, n));
  return {
    ua: 1 - share(f.correct),
    ra: share(r.correct),
    ta: share(t.correct),
    mia: miaEfficacy(attack, f.confidence),
  };
}

/** SalUn's "Avg. Gap": the mean of |method − retrain| over UA, RA, TA and MIA-Efficacy (run time left out). */
export function averageGap(m: UnlearningMetrics, retrained: UnlearningMetrics): number {
  const keys = ['ua', 'ra', 'ta', 'mia'] as const;
  return keys.reduce((s, k) => s + Math.abs(m[k] - retrained[k]), 0) / keys.length;
}
