// @module-tag hand-computed
// The decoupled proximal step, worked out by hand: after a plain-SGD step to w', the wrapped rule holds
// w' − lr·μ·(w' − w₀), w₀ being its weights when wrapped; the rule keeps training without it once released.
import { describe, expect, it } from 'vitest';
import { createBackend, tensor, tidy } from '../../../src/index.js';
import { createRule, type RuleConfig } from '../../../src/learn/create.js';
import type { LearningRule } from '../../../src/learn/rule.js';
import { withProximal } from '../../../src/federated/proximal.js';

const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 5 }, { type: 'tanh' }, { type: 'dense', units: 3 }],
  inputShape: [1, 2, 2],
  classes: 3,
  optimizer: { type: 'sgd', lr: 0.1 },
  seed: 2,
  streams: 'named',
};

const weights = (r: LearningRule) =>
  new Map([...r.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));

describe('withProximal', () => {
  it("adds w ← w − lr·μ·(w − w₀) after the rule's own step", async () => {
    const backend = await createBackend('js');
    const [plain, base] = [createRule(config, backend), createRule(config, backend)];
    const w0 = weights(base);
    const { rule: prox, release } = withProximal(base, 2);
    const x = [0.1, -0.4, 0.7, 0.2, 0.9, 0.3, -0.5, 0.05];
    const step = (r: LearningRule) => {
      r.setLr(0.1);
      tidy(() => r.trainStep(tensor(x, [2, 1, 2, 2], 'float32', backend), tensor([2, 0], [2], 'int32', backend)));
    };
    // two steps each, for the distance check at the end
    step(plain);
    step(prox);
    step(plain);
    step(prox);
    release();
    const [wp, wx] = [weights(plain), weights(base)];
    // one step, by hand: both rules from the same weights
    const [p1, b1] = [createRule(config, backend), createRule(config, backend)];
    const start = weights(b1);
    const wrapped = withProximal(b1, 2);
    step(p1);
    step(wrapped.rule);
    wrapped.release();
    const [after, got] = [weights(p1), weights(b1)];
    // after one step from w₀ the term is lr·μ·(w' − w₀)
    for (const [k, w1] of after) {
      const w0k = start.get(k)!;
      const g = got.get(k)!;
      for (let i = 0; i < w1.length; i++) expect(g[i]).toBeCloseTo(w1[i] - 0.1 * 2 * (w1[i] - w0k[i]), 6);
    }
    // and over two steps the wrapped weights stay nearer w₀
    const dist = (w: Map<string, Float32Array>) => {
      let s = 0;
      for (const [k, a] of w) for (let i = 0; i < a.length; i++) s += (a[i] - w0.get(k)![i]) ** 2;
      return s;
    };
    expect(dist(wx)).toBeLessThan(dist(wp));
    // released: the rule trains as a plain one again (one step from equal weights gives equal weights)
    const [p2, b2] = [createRule(config, backend), createRule(config, backend)];
    withProximal(b2, 2).release();
    step(p2);
    step(b2);
    const [u, v] = [weights(p2), weights(b2)];
    for (const [k, a] of u) expect(Array.from(v.get(k)!)).toEqual(Array.from(a));
    for (const r of [plain, base, p1, b1, p2, b2]) r.dispose();
  });
});
