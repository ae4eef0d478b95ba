/**
 * `frozenLayers` (RuleConfig; Backprop and TpSgd): the frozen layers keep their parameters and batch-norm statistics
 * bit for bit, and backprop's GPipe operations over two stages train the rest exactly as its one-thread step does.
 */
import { describe, expect, it } from 'vitest';
import { Rng, createRule, tensor, tidy, type RuleConfig } from '../../../src/index.js';
import type { Backprop } from '../../../src/learn/backprop.js';
import type { GPipe } from '../../../src/learn/parallelism.js';
import type { LearningRule } from '../../../src/learn/rule.js';
import { js } from '../helpers.js';

/** Segments: [0, 4) flatten, dense, batch norm, tanh · [4, 6) dense, tanh · [6, 7) dense. */
const config = (rule: 'backprop' | 'tpsgd', frozenLayers: number): RuleConfig => ({
  rule,
  model: 'mlp',
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 12 },
    { type: 'batchnorm' },
    { type: 'tanh' },
    { type: 'dense', units: 12 },
    { type: 'tanh' },
    { type: 'dense', units: 5 },
  ],
  inputShape: [1, 4, 4],
  classes: 5,
  seed: 2,
  optimizer: { type: 'adam', lr: 0.05 },
  frozenLayers,
});

const batch = (s: number) => {
  const rng = new Rng(100 + s);
  return {
    x: tensor(rng.fillUniform(new Float32Array(8 * 16), -1, 1), [8, 1, 4, 4], 'float32', js),
    y: tensor(
      Int32Array.from({ length: 8 }, (_, i) => (i * 3 + s) % 5),
      [8],
      'int32',
      js,
    ),
  };
};

const state = (r: LearningRule) =>
  new Map([...r.params(), ...r.buffers()].map(([k, t]) => [k, Array.from(t.dataSync() as Float32Array)]));

describe('frozen layers', { tags: ['invariant'] }, () => {
  it('keep their parameters and statistics under backprop and tpsgd; the others move', () => {
    for (const rule of ['backprop', 'tpsgd'] as const)
      for (const frozen of [2, 3, 4, 6]) {
        const r = createRule(config(rule, frozen), js);
        const before = state(r);
        for (let s = 0; s < 3; s++) tidy(() => r.trainStep(batch(s).x, batch(s).y));
        const after = state(r);
        for (const [k, v] of before) {
          if (k.endsWith('.projection')) continue;
          const layer = Number(k.split('.')[0]);
          const what = `${rule} frozen ${frozen}: ${k}`;
          if (layer < frozen) expect(after.get(k), what).toEqual(v);
          else expect(after.get(k), what).not.toEqual(v);
        }
        r.dispose();
      }
  });

  it("backprop's GPipe operations over two stages give its one-thread step, bit for bit", () => {
    for (const frozen of [2, 4]) {
      const one = createRule(config('backprop', frozen), js) as Backprop,
        two = createRule(config('backprop', frozen), js) as Backprop;
      const p = two.parallelism() as GPipe;
      for (let s = 0; s < 2; s++)
        tidy(() => {
          const { x, y } = batch(s);
          one.trainStep(x, y);
          // stage A: segment 0 (partly or wholly frozen); stage B: segments 1 and 2
          const a = p.forwardTrain(x, 0, 1),
            b = p.forwardTrain(a.y, 1, 3);
          const l = p.loss(b.y, y, 1);
          const backB = p.backward(l.grad, b, 1, 3, true),
            backA = p.backward(backB.dx!, a, 0, 1, false);
          p.step(1, 3, backB.grads);
          p.step(0, 1, backA.grads);
          if (frozen >= 4) expect(backA).toEqual({ dx: null, grads: {} });
          a.dispose();
          b.dispose();
        });
      expect(state(two), `frozen ${frozen}`).toEqual(state(one));
      one.dispose();
      two.dispose();
    }
  });
});

describe('frozen layers: what is refused', { tags: ['behaviour'] }, () => {
  it('a count that leaves no layer with parameters to train is a typed error', () => {
    for (const n of [7, 8, -1, 1.5])
      expect(() => createRule(config('backprop', n), js)).toThrow(
        expect.objectContaining({ name: 'LayerhiveError', code: 'INVALID_ARGUMENT' }),
      );
    expect(() => createRule({ ...config('backprop', 1), rule: 'noprop-dt' }, js)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('frozenLayers applies') }),
    );
  });
});
