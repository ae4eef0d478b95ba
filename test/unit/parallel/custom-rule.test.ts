/**
 * Issue 15's proof that the parallel layer knows no rule: a rule defined only in the test folder (toy-rule.mjs, two
 * segments with local losses, declared as a forward pipeline) trains across two workers — which build it from its
 * config after importing the module that registers it — to the same weights as in one thread.
 */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import {
  createRule,
  parallelismOf,
  ruleNames,
  LayerhiveError,
  train,
  trainParallel,
  type LearningRule,
  type RuleConfig,
} from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { wasmRelaxed } from '../helpers.js';
import { register } from './toy-rule.mjs';

register(lh);
const spawn = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));
const ruleModules = [new URL('./toy-rule.register.mjs', import.meta.url).href];
const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 2000);
const testSet = subset(mnist.test, 0, 200);
const opts = { epochs: 1, batchSize: 32, seed: 5, lr: 5e-3, stageThreads: 1 as const };
const config: RuleConfig = {
  rule: 'toy-local',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 3,
  optimizer: { type: 'adam', lr: 5e-3 },
};
const weights = (r: LearningRule) =>
  new Map([...r.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));

describe('a learning rule of your own', () => {
  it('trains across 2 workers as the forward pipeline it declares, bit for bit as in one thread', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const one = createRule(config, wasmRelaxed);
    const alone = await train(one, trainSet, testSet, opts);
    const { rule, report } = await trainParallel(config, trainSet, testSet, {
      ...opts,
      workers: 2,
      spawn,
      ruleModules,
    });
    try {
      expect(report.plan.mode).toBe('pipeline');
      expect(report.plan.stages.map((s) => s.groups)).toEqual([['low'], ['high']]);
      expect(report.stageBytes).toBeGreaterThan(0); // activations and labels moved from the first stage on
      const a = weights(one),
        b = weights(rule);
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
      // it learns: one epoch of 2 000 images
      expect(report.epochs[0].testAccuracy).toBe(alone.epochs[0].testAccuracy);
      expect(report.epochs[0].testAccuracy).toBeGreaterThan(0.63); // measured 0.675 (deterministic for the seed)
    } finally {
      one.dispose();
      rule.dispose();
    }
  });

  it('parallelismOf(config) says what each built-in rule declares once built (the two must not drift)', {
    tags: ['invariant'],
  }, () => {
    for (const rule of ruleNames) {
      const c: RuleConfig = { ...config, rule, noprop: { T: 2 } };
      const built = createRule(c, wasmRelaxed);
      expect(built.parallelism()?.kind ?? null, rule).toBe(parallelismOf(c));
      built.dispose();
    }
  });

  it('a name is registered once; an unknown rule names registerRule', { tags: ['behaviour'] }, () => {
    expect(() => register(lh)).toThrow(LayerhiveError);
    expect(() => register(lh)).toThrow(/a learning rule named "toy-local" exists already/);
    expect(() => createRule({ ...config, rule: 'no-such-rule' }, wasmRelaxed)).toThrow(
      /unknown learning rule "no-such-rule".*toy-local, or registerRule\(\) your own/,
    );
  });
});
