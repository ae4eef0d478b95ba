/** Optimisers against a float64 re-statement of their update rules, and the schedules. */
import { describe, expect, it } from 'vitest';
import { Rng, tensor, tidy } from '../../../src/index.js';
import { createOptimizer, lrAt, type OptimizerSpec } from '../../../src/learn/optim/index.js';
import { expectClose, randomArray, wasmRelaxed } from '../helpers.js';

function reference(spec: OptimizerSpec, theta: number[], grads: number[][]): number[] {
  const { lr, momentum = 0, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = spec;
  const p = [...theta],
    m = p.map(() => 0),
    v = p.map(() => 0);
  grads.forEach((g0, step) => {
    const t = step + 1;
    for (let i = 0; i < p.length; i++) {
      if (spec.type === 'sgd') {
        const g = g0[i] + weightDecay * p[i];
        m[i] = momentum ? momentum * m[i] + g : g;
        p[i] -= lr * m[i];
      } else {
        const wd = spec.type === 'adamw' ? weightDecay : 0,
          l2 = spec.type === 'adam' ? weightDecay : 0;
        const g = g0[i] + l2 * p[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        const mh = m[i] / (1 - beta1 ** t),
          vh = v[i] / (1 - beta2 ** t);
        p[i] = p[i] * (1 - lr * wd) - (lr * mh) / (Math.sqrt(vh) + epsilon);
      }
    }
  });
  return p;
}

describe('optimisers', () => {
  const specs: OptimizerSpec[] = [
    { type: 'sgd', lr: 0.1 },
    { type: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
    { type: 'adam', lr: 1e-2 },
    { type: 'adam', lr: 1e-2, weightDecay: 0.1 },
    { type: 'adamw', lr: 1e-2, weightDecay: 0.1 },
  ];
  it.each(specs.map((s) => [JSON.stringify(s), s] as const))(
    '%s matches its update rule over 4 steps',
    { tags: ['hand-computed'] },
    (_, spec) => {
      const rng = new Rng(1);
      const theta = Array.from(randomArray(rng, 37));
      const grads = Array.from({ length: 4 }, () => Array.from(randomArray(rng, 37)));
      const p = tensor(Float32Array.from(theta), [37], 'float32', wasmRelaxed);
      const opt = createOptimizer(spec);
      for (const g of grads)
        tidy(() => opt.step(new Map([['w', p]]), { w: tensor(Float32Array.from(g), [37], 'float32', wasmRelaxed) }));
      expectClose(p.dataSync(), reference(spec, theta, grads), 1e-5, 1e-6, spec.type);
      expect(opt.steps).toBe(4);
      opt.dispose();
      p.dispose();
    },
  );

  it('a parameter without a gradient is left alone; a bad learning rate is refused', { tags: ['behaviour'] }, () => {
    const p = tensor([1, 2], [2], 'float32', wasmRelaxed);
    createOptimizer({ type: 'adam', lr: 0.1 }).step(new Map([['w', p]]), {});
    expect(p.toArray()).toEqual([1, 2]);
    expect(() => createOptimizer({ type: 'sgd', lr: 0 })).toThrow(/learning rate 0 is not positive/);
  });

  it('schedules: cosine ends at its floor, step decays, warm-up climbs', { tags: ['hand-computed'] }, () => {
    expect(lrAt(1, { type: 'cosine', totalSteps: 100 }, 0)).toBe(1);
    expect(lrAt(1, { type: 'cosine', totalSteps: 100 }, 50)).toBeCloseTo(0.5, 12);
    expect(lrAt(1, { type: 'cosine', totalSteps: 100, minLr: 0.1 }, 100)).toBeCloseTo(0.1, 12);
    expect(lrAt(1, { type: 'step', every: 10, gamma: 0.5 }, 25)).toBe(0.25);
    expect(lrAt(1, { type: 'warmup-cosine', warmupSteps: 4, totalSteps: 20 }, 1)).toBe(0.5);
  });
});
