/** The saliency mask keeps exactly the top γ, and masked fine-tuning never moves the other weights. */
import { describe, expect, it } from 'vitest';
import { createRule } from '../../../../src/learn/create.js';
import { MaskedWeights, topFractionMask } from '../../../../src/learn/unlearn/mask.js';
import { trainOn } from '../../../../src/learn/unlearn/train-on.js';
import { release, snapshot } from '../../../../src/learn/unlearn/weights.js';
import { dispose } from '../../../../src/core/scope.js';
import { Rng } from '../../../../src/core/rng.js';
import { unlearn } from '../../../../src/learn/unlearn/unlearn.js';
import { splitByIndices } from '../../../../src/learn/unlearn/split.js';
import { wasmRelaxed } from '../../helpers.js';
import { tinyConfig, tinyData } from './tiny.js';

const count = (m: Map<string, Float32Array>) => [...m.values()].reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);

describe('topFractionMask', () => {
  it('keeps ⌊γN⌋ weights: the largest over all tensors together, not per tensor', { tags: ['hand-computed'] }, () => {
    const s = new Map([
      ['a', Float32Array.of(0.1, 5, 0.2)],
      ['b', Float32Array.of(4, 3, 0.3, 2)],
    ]);
    const m = topFractionMask(s, 0.5); // N = 7, ⌊3.5⌋ = 3: 5, 4, 3
    expect([...m.get('a')!]).toEqual([0, 1, 0]);
    expect([...m.get('b')!]).toEqual([1, 1, 0, 0]);
    expect(count(topFractionMask(s, 1))).toBe(7);
    expect(count(topFractionMask(s, 0.1))).toBe(0); // ⌊0.7⌋ = 0
  });

  it('ties at the threshold go to the first weights in order; NaN ranks last', { tags: ['hand-computed'] }, () => {
    const s = new Map([
      ['a', Float32Array.of(1, Number.NaN, 1)],
      ['b', Float32Array.of(2, 1, 1)],
    ]);
    const m = topFractionMask(s, 3 / 6); // 2, then the first two of the four 1s
    expect([...m.get('a')!]).toEqual([1, 0, 1]);
    expect([...m.get('b')!]).toEqual([1, 0, 0]);
    const all = topFractionMask(new Map([['z', new Float32Array(10)]]), 0.3); // all tied at 0
    expect([...all.get('z')!]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('exactly ⌊γN⌋ on random saliencies for many γ', { tags: ['invariant'] }, () => {
    const rng = new Rng(1);
    const s = new Map([
      ['x', rng.fillUniform(new Float32Array(1000))],
      ['y', Float32Array.from({ length: 333 }, () => Math.round(rng.uniform() * 4) / 4)], // heavy ties
    ]);
    for (const g of [0.01, 0.25, 0.5, 0.77, 1]) {
      const m = topFractionMask(s, g);
      expect(count(m)).toBe(Math.floor(g * 1333));
      // every kept value ≥ every dropped value
      let minKept = Infinity,
        maxDropped = -Infinity;
      for (const [k, v] of s)
        v.forEach((x, i) => {
          if (m.get(k)![i]) minKept = Math.min(minKept, x);
          else maxDropped = Math.max(maxDropped, x);
        });
      expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    }
  });

  it('γ outside (0, 1] is a typed error', { tags: ['behaviour'] }, () => {
    for (const g of [0, -0.1, 1.5, Number.NaN])
      expect(() => topFractionMask(new Map([['a', new Float32Array(2)]]), g)).toThrow(/not in \(0, 1\]/);
  });
});

describe('masked fine-tuning', () => {
  it('non-salient weights are bit-identical after Adam steps; salient ones moved', {
    tags: ['invariant'],
  }, async () => {
    const config = tinyConfig();
    const rule = createRule(config, wasmRelaxed);
    const theta0 = snapshot(rule);
    const rng = new Rng(9);
    const mask = new Map(
      [...rule.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync(), () => (rng.uniform() < 0.5 ? 1 : 0))]),
    );
    const before = new Map([...rule.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    const keeper = new MaskedWeights(rule, mask, theta0);
    await trainOn(
      rule,
      tinyData(40, 2),
      { epochs: 3, batchSize: 8, seed: 1, lr: 0.05 },
      { afterStep: () => keeper.apply() },
    );
    let moved = 0;
    for (const [k, t] of rule.params()) {
      const now = t.dataSync(),
        m = mask.get(k)!,
        b = before.get(k)!;
      for (let i = 0; i < now.length; i++) {
        if (m[i] === 0) expect(Object.is(now[i], b[i]), `${k}[${i}]`).toBe(true);
        else if (now[i] !== b[i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(10);
    keeper.dispose();
    dispose(theta0);
    release(rule);
  });

  it('salun through unlearn(): the weights outside the top γ keep their trained bits', {
    tags: ['invariant'],
  }, async () => {
    const config = tinyConfig();
    const rule = createRule(config, wasmRelaxed);
    const train = tinyData(60, 3);
    await trainOn(rule, train, { epochs: 2, batchSize: 8, seed: 0, lr: 1e-2 });
    const { forget, retain } = splitByIndices(train, [0, 5, 7, 11, 30]);
    const trained = new Map([...rule.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
    const out = await unlearn(rule, { config, forget, retain, epochs: 2, batchSize: 8, gamma: 0.3 });
    let same = 0,
      total = 0;
    for (const [k, t] of out.rule.params()) {
      const now = t.dataSync();
      total += now.length;
      for (let i = 0; i < now.length; i++) if (Object.is(now[i], trained.get(k)![i])) same++;
    }
    // at least the 70% outside the mask are untouched (a salient weight may also end where it started)
    expect(same).toBeGreaterThanOrEqual(total - Math.floor(0.3 * total));
    expect(same).toBeLessThan(total);
    release(out.rule);
    release(rule);
  });
});
