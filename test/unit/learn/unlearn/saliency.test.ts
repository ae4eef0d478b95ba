/** Saliency is the gradient of the rule's own loss on the forget set, read through its trainStep. */
import { describe, expect, it } from 'vitest';
import { createRule } from '../../../../src/learn/create.js';
import { saliency } from '../../../../src/learn/unlearn/saliency.js';
import { MNIST_NORMALIZATION } from '../../../../src/data/batches.js';
import { trainOn } from '../../../../src/learn/unlearn/train-on.js';
import { release } from '../../../../src/learn/unlearn/weights.js';
import { expectClose, js, wasmRelaxed } from '../../helpers.js';
import { tinyConfig, tinyData } from './tiny.js';

/** Σ over batches of ∇ mean-CE, in float64, for the 4 → 5 tanh → 3 net (weights [in, out]). */
function float64Gradient(p: Map<string, Float64Array>, ds: ReturnType<typeof tinyData>, batch: number) {
  const [w1, b1, w2, b2] = ['1.weight', '1.bias', '3.weight', '3.bias'].map((k) => p.get(k)!);
  const g = new Map([...p].map(([k, v]) => [k, new Float64Array(v.length)]));
  const norm = (v: number) => (v / 255 - MNIST_NORMALIZATION.mean) / MNIST_NORMALIZATION.std;
  for (let start = 0; start < ds.count; start += batch) {
    const n = Math.min(batch, ds.count - start);
    for (let s = start; s < start + n; s++) {
      const x = Array.from({ length: 4 }, (_, k) => norm(ds.images[s * 4 + k]));
      const h = Array.from({ length: 5 }, (_, j) =>
        Math.tanh(b1[j] + x.reduce((a, xi, i) => a + xi * w1[i * 5 + j], 0)),
      );
      const z = Array.from({ length: 3 }, (_, c) => b2[c] + h.reduce((a, hj, j) => a + hj * w2[j * 3 + c], 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, v) => a + v, 0);
      const dz = e.map((v, c) => (v / sum - (c === ds.labels[s] ? 1 : 0)) / n);
      for (let c = 0; c < 3; c++) {
        g.get('3.bias')![c] += dz[c];
        for (let j = 0; j < 5; j++) g.get('3.weight')![j * 3 + c] += h[j] * dz[c];
      }
      for (let j = 0; j < 5; j++) {
        const dh = dz.reduce((a, d, c) => a + d * w2[j * 3 + c], 0) * (1 - h[j] * h[j]);
        g.get('1.bias')![j] += dh;
        for (let i = 0; i < 4; i++) g.get('1.weight')![i * 5 + j] += x[i] * dh;
      }
    }
  }
  return new Map([...g].map(([k, v]) => [k, v.map(Math.abs)]));
}

describe('saliency', () => {
  for (const backend of [js, wasmRelaxed])
    it(`backprop: |Σ ∇ CE| over forget batches equals a float64 restatement (${backend.name})`, {
      tags: ['hand-computed'],
    }, async () => {
      const config = tinyConfig();
      const rule = createRule(config, backend);
      await trainOn(rule, tinyData(60, 1), { epochs: 2, batchSize: 8, seed: 0, lr: 1e-2 });
      const forget = tinyData(21, 2);
      const before = new Map([...rule.params()].map(([k, t]) => [k, Float32Array.from(t.dataSync())]));
      const s = await saliency(rule, config, forget, { batchSize: 8 });
      const want = float64Gradient(new Map([...before].map(([k, v]) => [k, Float64Array.from(v)])), forget, 8);
      for (const [k, v] of want) expectClose(s.get(k)!, v, 1e-4, 1e-6, k);
      // the trained rule is left exactly as it was
      for (const [k, t] of rule.params()) expect(t.dataSync(), k).toEqual(before.get(k));
      release(rule);
    });

  it('agrees with central finite differences of the forget loss (float64 restatement as the loss)', {
    tags: ['invariant'],
  }, async () => {
    // a second, independent check of the restatement itself: its gradient against differences of its own loss
    const config = tinyConfig();
    const rule = createRule(config, js);
    const forget = tinyData(9, 4);
    const s = await saliency(rule, config, forget, { batchSize: 9 });
    const p = new Map([...rule.params()].map(([k, t]) => [k, Float64Array.from(t.dataSync())]));
    const loss = () => float64Loss(p, forget);
    const h = 1e-6;
    for (const k of ['1.weight', '3.bias']) {
      const v = p.get(k)!;
      for (let i = 0; i < v.length; i += 3) {
        const keep = v[i];
        v[i] = keep + h;
        const up = loss();
        v[i] = keep - h;
        const down = loss();
        v[i] = keep;
        expect(s.get(k)![i]).toBeCloseTo(Math.abs((up - down) / (2 * h)), 4);
      }
    }
    release(rule);
  });

  it('tpSGD and NoProp-DT: every trained parameter gets a saliency, and frozen-free rules move somewhere', {
    tags: ['invariant'],
  }, async () => {
    for (const r of ['tpsgd', 'noprop-dt'] as const) {
      const config = r === 'tpsgd' ? tinyConfig('tpsgd') : { ...tinyConfig(r), layers: undefined, noprop: { T: 2 } };
      const rule = createRule(config, js);
      const s = await saliency(rule, config, tinyData(12, 5), { batchSize: 6 });
      expect([...s.keys()].sort()).toEqual([...rule.params().keys()].sort());
      for (const [k, v] of s) {
        expect(v.every(Number.isFinite), k).toBe(true);
        expect(
          v.some((x) => x > 0),
          `${r} ${k}`,
        ).toBe(true);
      }
      release(rule);
    }
  });
});

function float64Loss(p: Map<string, Float64Array>, ds: ReturnType<typeof tinyData>): number {
  const [w1, b1, w2, b2] = ['1.weight', '1.bias', '3.weight', '3.bias'].map((k) => p.get(k)!);
  const norm = (v: number) => (v / 255 - MNIST_NORMALIZATION.mean) / MNIST_NORMALIZATION.std;
  let total = 0;
  for (let s = 0; s < ds.count; s++) {
    const x = Array.from({ length: 4 }, (_, k) => norm(ds.images[s * 4 + k]));
    const h = Array.from({ length: 5 }, (_, j) => Math.tanh(b1[j] + x.reduce((a, xi, i) => a + xi * w1[i * 5 + j], 0)));
    const z = Array.from({ length: 3 }, (_, c) => b2[c] + h.reduce((a, hj, j) => a + hj * w2[j * 3 + c], 0));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    total += lse - z[ds.labels[s]];
  }
  return total / ds.count;
}
