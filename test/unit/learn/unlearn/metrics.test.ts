// @module-tag hand-computed
/** UA, RA, TA, MIA-Efficacy and the average gap on a model whose every prediction is known by hand. */
import { describe, expect, it } from 'vitest';
import { createRule, type RuleConfig } from '../../../../src/learn/create.js';
import { assign, tensor } from '../../../../src/ops/index.js';
import { averageGap, scoreSamples, unlearningMetrics } from '../../../../src/learn/unlearn/metrics.js';
import { membershipAttack, miaEfficacy } from '../../../../src/learn/unlearn/mia.js';
import { UNIT_SCALE } from '../../../../src/data/batches.js';
import type { ImageDataset } from '../../../../src/data/dataset.js';
import { release } from '../../../../src/learn/unlearn/weights.js';
import { js } from '../../helpers.js';

// logits = the first three pixels (v/255): the prediction is the brightest of them
const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }],
  inputShape: [1, 2, 2],
  classes: 3,
  optimizer: { type: 'sgd', lr: 0.1 },
  seed: 0,
};
function picker() {
  const rule = createRule(config, js);
  const w = new Float32Array(12);
  for (let c = 0; c < 3; c++) w[c * 3 + c] = 1; // weight [in 4, out 3]
  assign(rule.params().get('1.weight')!, tensor(w, [4, 3], 'float32', js));
  return rule;
}
/** Images [p0, p1, p2, 0] with labels. */
const data = (rows: [number, number, number, number][]): ImageDataset => ({
  images: Uint8Array.from(rows.flatMap(([a, b, c]) => [a, b, c, 0])),
  labels: Uint8Array.from(rows.map((r) => r[3])),
  count: rows.length,
  shape: [1, 2, 2],
  classes: 3,
});
const conf = ([a, b, c, y]: number[]) => {
  const e = [a, b, c].map((v) => Math.exp(v / 255));
  return e[y] / (e[0] + e[1] + e[2]);
};

describe('unlearning metrics', () => {
  const forget: [number, number, number, number][] = [
    [255, 0, 0, 0], // right
    [0, 255, 0, 2], // wrong
    [0, 0, 255, 2], // right
    [100, 0, 0, 1], // wrong
  ];
  const retain: [number, number, number, number][] = [
    [255, 0, 0, 0],
    [0, 200, 0, 1],
    [0, 0, 50, 2],
    [10, 0, 0, 2], // wrong
  ];
  const test: [number, number, number, number][] = [
    [0, 20, 0, 1],
    [30, 0, 0, 1], // wrong
    [0, 0, 0, 0], // a tie: the first class wins, right
  ];

  it('accuracies and confidences per sample', async () => {
    const rule = picker();
    const s = await scoreSamples(rule, data(forget), { normalization: UNIT_SCALE });
    expect([...s.correct]).toEqual([1, 0, 1, 0]);
    for (const [i, r] of forget.entries()) expect(s.confidence[i]).toBeCloseTo(conf(r), 6);
    release(rule);
  });

  it('UA, RA, TA, MIA-Efficacy and Avg. Gap', async () => {
    const rule = picker();
    const m = await unlearningMetrics(
      rule,
      { forget: data(forget), retain: data(retain), test: data(test) },
      { normalization: UNIT_SCALE },
    );
    expect(m.ua).toBe(0.5);
    expect(m.ra).toBe(0.75);
    expect(m.ta).toBeCloseTo(2 / 3, 12);
    // the attack: the first 3 retain (members) against the 3 test samples (non-members), by hand in float64
    const attack = membershipAttack(retain.slice(0, 3).map(conf), test.map(conf));
    expect(m.mia).toBeCloseTo(miaEfficacy(attack, forget.map(conf)), 12);
    // members 0.576, 0.523, 0.378 against non-members 0.351, 0.320, 0.333: the threshold falls at 0.3645; the
    // forget confidences 0.576 (member), 0.212, 0.576 (member), 0.287 → half are called non-members
    expect(attack.fitAccuracy).toBe(1);
    expect(attack.threshold).toBeCloseTo((conf(test[0]) + conf(retain[2])) / 2, 12);
    expect(m.mia).toBe(0.5);
    const ref = { ua: 0.25, ra: 1, ta: 0.5, mia: 0.5 };
    expect(averageGap(m, ref)).toBeCloseTo((0.25 + 0.25 + 1 / 6 + 0) / 4, 12);
    expect(averageGap(ref, ref)).toBe(0);
    release(rule);
  });
});
