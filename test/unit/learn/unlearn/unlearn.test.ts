/** unlearn(): retraining is training on the retain set, every method runs on every rule, and bad requests fail. */
import { describe, expect, it } from 'vitest';
import { createRule, type RuleConfig } from '../../../../src/learn/create.js';
import { train } from '../../../../src/learn/trainer.js';
import { unlearn } from '../../../../src/learn/unlearn/unlearn.js';
import { unlearnMethods } from '../../../../src/learn/unlearn/options.js';
import { splitByClass, splitByIndices } from '../../../../src/learn/unlearn/split.js';
import { scoreSamples } from '../../../../src/learn/unlearn/metrics.js';
import { trainOn } from '../../../../src/learn/unlearn/train-on.js';
import { release } from '../../../../src/learn/unlearn/weights.js';
import type { LearningRule } from '../../../../src/learn/rule.js';
import { liveTensors } from '../../../../src/core/scope.js';
import { js, wasmRelaxed } from '../../helpers.js';
import { tinyConfig, tinyData } from './tiny.js';

const bits = (r: LearningRule) => new Map([...r.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
const accuracy = async (r: LearningRule, ds: ReturnType<typeof tinyData>) => {
  const s = await scoreSamples(r, ds);
  return s.correct.reduce((a, b) => a + b, 0) / ds.count;
};

describe('unlearn', () => {
  it('retrain is `train` on the retain set from the same seed, bit for bit', { tags: ['invariant'] }, async () => {
    const config = tinyConfig('backprop', 11);
    const trainSet = tinyData(50, 1);
    const { forget, retain } = splitByIndices(trainSet, [1, 2, 3, 40]);
    const trained = createRule(config, wasmRelaxed);
    const out = await unlearn(trained, {
      config,
      forget,
      retain,
      method: 'retrain',
      retrain: { epochs: 3, batchSize: 8, seed: 4, lr: 0.02 },
    });
    const reference = createRule(config, wasmRelaxed);
    await train(reference, retain, tinyData(6, 9), { epochs: 3, batchSize: 8, seed: 4, lr: 0.02 });
    const a = bits(out.rule);
    for (const [k, v] of bits(reference)) expect(a.get(k), k).toEqual(v);
    // and it is not the trained model
    expect(bits(trained).get('1.weight')).not.toEqual(a.get('1.weight'));
    for (const r of [out.rule, reference, trained]) release(r);
  });

  const rules: RuleConfig[] = [
    tinyConfig('backprop'),
    tinyConfig('tpsgd'),
    { ...tinyConfig('noprop-dt'), layers: undefined, noprop: { T: 2 } },
    // a tpSGD head on a frozen trunk: only the head unlearns, the trunk stays a buffer
    { ...tinyConfig('tpsgd'), trunk: [{ type: 'flatten' }, { type: 'dense', units: 4 }, { type: 'tanh' }] },
  ];
  const named = (c: RuleConfig) => `${c.rule}${c.trunk ? ' head on a trunk' : ''}`;
  for (const config of rules)
    it(`${named(config)}: every method returns a new model and leaves the trained one alone`, {
      tags: ['invariant'],
    }, async () => {
      const trainSet = tinyData(36, 2);
      const rule = createRule(config, js);
      await trainOn(rule, trainSet, { epochs: 1, batchSize: 6, seed: 0, lr: 1e-2 });
      const before = bits(rule);
      const { forget, retain } = splitByIndices(trainSet, [0, 4, 8]);
      for (const method of unlearnMethods) {
        const out = await unlearn(rule, { config, forget, retain, method, epochs: 1, batchSize: 6, lr: 1e-2 });
        expect(out.method).toBe(method);
        expect(out.seconds).toBeGreaterThan(0);
        expect(out.rule).not.toBe(rule);
        const after = bits(out.rule);
        expect(
          [...after].some(([k, v]) => v.some((x, i) => x !== before.get(k)![i])),
          method,
        ).toBe(true);
        for (const v of after.values()) expect(v.every(Number.isFinite), method).toBe(true);
        release(out.rule);
      }
      for (const [k, v] of bits(rule)) expect(v, k).toEqual(before.get(k));
      release(rule);
    });

  it('class-wise: SalUn and retrain lose the class (below chance), keep the others', {
    tags: ['invariant'],
  }, async () => {
    const config = { ...tinyConfig('backprop', 5), optimizer: { type: 'adam' as const, lr: 0.03 } };
    const trainSet = tinyData(150, 3);
    const rule = createRule(config, wasmRelaxed);
    await trainOn(rule, trainSet, { epochs: 8, batchSize: 10, seed: 0, lr: 0.03 });
    const { forget, retain } = splitByClass(trainSet, 2);
    expect(await accuracy(rule, forget)).toBeGreaterThan(0.9);
    for (const method of ['salun', 'retrain'] as const) {
      const out = await unlearn(rule, {
        config,
        forget,
        retain,
        method,
        epochs: 4,
        batchSize: 10,
        retrain: { epochs: 8, batchSize: 10, seed: 0, lr: 0.03 },
      });
      // retrain never saw the class; SalUn's random labels hit the true one a third of the time, so below chance
      expect(await accuracy(out.rule, forget), method).toBeLessThan(method === 'retrain' ? 0.05 : 1 / 3);
      expect(await accuracy(out.rule, retain), method).toBeGreaterThan(0.85);
      release(out.rule);
    }
    release(rule);
  });

  it('gradient ascent raises the forget loss: forget accuracy falls', { tags: ['invariant'] }, async () => {
    const config = tinyConfig('backprop', 6);
    const trainSet = tinyData(90, 4);
    const rule = createRule(config, wasmRelaxed);
    await trainOn(rule, trainSet, { epochs: 6, batchSize: 10, seed: 0, lr: 0.03 });
    const { forget, retain } = splitByClass(trainSet, 0);
    const out = await unlearn(rule, { config, forget, retain, method: 'gradient-ascent', epochs: 5, lr: 0.5 });
    expect(await accuracy(out.rule, forget)).toBeLessThan(await accuracy(rule, forget));
    release(out.rule);
    release(rule);
  });

  it('leaves no tensor behind: every method, once its result is released', { tags: ['invariant'] }, async () => {
    const config = tinyConfig();
    const rule = createRule(config, js);
    const { forget, retain } = splitByIndices(tinyData(24, 1), [0, 1, 2]);
    const live = liveTensors();
    for (const method of unlearnMethods) {
      const out = await unlearn(rule, { config, forget, retain, method, epochs: 1, batchSize: 8 });
      release(out.rule);
      expect(liveTensors(), method).toBe(live);
    }
    release(rule);
  });

  it('typed errors for requests it cannot serve', { tags: ['behaviour'] }, async () => {
    const config = tinyConfig();
    const rule = createRule(config, js);
    const d = tinyData(10, 1);
    const { forget, retain } = splitByIndices(d, [0]);
    const empty = { ...forget, count: 0, images: new Uint8Array(0), labels: new Uint8Array(0) };
    await expect(unlearn(rule, { config, forget: empty, retain })).rejects.toThrow(/forget set is empty/);
    await expect(unlearn(rule, { config, forget, retain: empty })).rejects.toThrow(/retain set is empty/);
    const big = { ...forget, shape: [1, 3, 3] as [number, number, number], images: new Uint8Array(9) };
    await expect(unlearn(rule, { config, forget: big, retain })).rejects.toThrow(/hold 9 values, the model takes 4/);
    await expect(unlearn(rule, { config, forget, retain, method: 'forget-all' as never })).rejects.toThrow(
      /unknown unlearning method/,
    );
    await expect(unlearn(rule, { config, forget, retain, epochs: 0 })).rejects.toThrow(/epochs 0 is not a positive/);
    await expect(unlearn(rule, { config, forget, retain, gamma: 2 })).rejects.toThrow(/not in \(0, 1\]/);
    const frozen = { ...rule, name: 'frozen', params: () => new Map() } as unknown as LearningRule;
    await expect(unlearn(frozen, { config, forget, retain })).rejects.toThrow(/no trainable parameters/);
    release(rule);
  });
});
