/**
 * Attribution methods where the right answer is known: a linear model (IG = (x − x′)·w, input×gradient and
 * DeepLIFT agree), exact Shapley values by enumeration, occlusion with a 1×1 window = single-feature ablation,
 * and IG's completeness on an MNIST CNN.
 */
import { describe, expect, it } from 'vitest';
import { createRule, explain, nn, Rng, train, type RuleConfig } from '../../../src/index.js';
import { fromSequential } from '../../../src/explain/model.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { normalizePixels } from '../../../src/data/batches.js';
import { expectClose, js, randomArray, wasmRelaxed } from '../helpers.js';

const linear = () => {
  const m = new nn.Sequential(
    { input: [1, 2, 5], layers: [{ type: 'flatten' }, { type: 'dense', units: 3 }] },
    { backend: js, rng: new Rng(4) },
  );
  return { m, w: m.namedParams().get('1.weight')!.dataSync() as Float32Array };
};
const x = randomArray(new Rng(8), 10, -1, 1);
const base = randomArray(new Rng(9), 10, -0.5, 0.5);

describe('attributions with a known answer', () => {
  it('linear model: IG (both quadratures) = (x − x′)·w, DeepLIFT agrees, input×gradient = x·w, delta ≈ 0', {
    tags: ['hand-computed'],
  }, async () => {
    const { m, w } = linear();
    const expected = Float32Array.from(x, (v, i) => (v - base[i]) * w[i * 3 + 2]); // weight [10, 3], class 2
    for (const integration of ['gauss-legendre', 'riemann'] as const) {
      const ig = await explain(m, x, {
        method: 'integrated-gradients',
        target: 2,
        baseline: base,
        samples: 8,
        integration,
      });
      expectClose(ig.values, expected, 1e-5, 1e-6, `IG ${integration}`);
      expect(Math.abs(ig.delta!)).toBeLessThan(1e-5);
      expect(ig.modelCalls).toBe(8 + 2);
    }
    const dl = await explain(m, x, { method: 'deeplift', target: 2, baseline: base });
    expectClose(dl.values, expected, 1e-5, 1e-6, 'DeepLIFT');
    const ixg = await explain(m, x, { method: 'input-x-gradient', target: 2 });
    expectClose(
      ixg.values,
      Float32Array.from(x, (v, i) => v * w[i * 3 + 2]),
      1e-6,
      1e-7,
      'input×gradient',
    );
    const ig0 = await explain(m, x, { method: 'integrated-gradients', target: 2, samples: 4 });
    expectClose(ig0.values, ixg.values, 1e-5, 1e-6, 'IG from 0 = input×gradient');
  });

  it('DeepLIFT on a tanh network sums to F(x) − F(x′) (the rescale rule is complete)', {
    tags: ['invariant'],
  }, async () => {
    const m = new nn.Sequential(
      {
        input: [10],
        layers: [
          { type: 'dense', units: 6 },
          { type: 'tanh' },
          { type: 'dense', units: 5 },
          { type: 'sigmoid' },
          { type: 'dense', units: 3 },
        ],
      },
      { backend: js, rng: new Rng(2) },
    );
    const dl = await explain(m, x, { method: 'deeplift', target: 1, baseline: base });
    expect(Math.abs(dl.delta!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(dl.score! - dl.baselineScore!)));
    const ig = await explain(m, x, { method: 'integrated-gradients', target: 1, baseline: base, samples: 64 });
    expect(Math.abs(ig.delta!)).toBeLessThan(1e-4);
  });

  it('DeepLIFT through max-pooling (the window rule) sums to F(x) − F(x′) on a CNN; ' +
    'the plain gradient would not', { tags: ['invariant'] }, async () => {
    const m = new nn.Sequential(
      {
        input: [2, 6, 6],
        layers: [
          { type: 'conv2d', filters: 3, kernel: 3, pad: 1 },
          { type: 'tanh' },
          { type: 'maxpool2d', kernel: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 4 },
          { type: 'relu' },
          { type: 'dense', units: 3 },
        ],
      },
      { backend: wasmRelaxed, rng: new Rng(5) },
    );
    const xi = randomArray(new Rng(10), 72, -1, 1),
      bi = randomArray(new Rng(11), 72, -1, 1);
    for (const target of [0, 1, 2]) {
      const dl = await explain(m, xi, { method: 'deeplift', target, baseline: bi });
      const gap = Math.abs(dl.score! - dl.baselineScore!);
      expect(gap).toBeGreaterThan(1e-2);
      expect(Math.abs(dl.delta!), `class ${target}`).toBeLessThan(1e-4 * Math.max(1, gap));
    }
  });

  it("DeepLIFT through max-pooling stays complete on ReLU CNNs with random baselines (Captum's rule: a window whose " +
    "maximum has Δx = 0 sends its Δy to the baseline's maximum)", { tags: ['invariant'] }, async () => {
    let worst = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const m = new nn.Sequential(
        {
          input: [1, 8, 8],
          layers: [
            { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
            { type: 'relu' },
            { type: 'maxpool2d', kernel: 2 },
            { type: 'flatten' },
            { type: 'dense', units: 3 },
          ],
        },
        { backend: wasmRelaxed, rng: new Rng(100 + seed) },
      );
      // ReLU leaves many pooled windows at 0 for both x and x′: exactly where the old rule lost Δy
      const xi = randomArray(new Rng(200 + seed), 64, -1, 1),
        bi = randomArray(new Rng(300 + seed), 64, -1, 1);
      for (const target of [0, 1, 2]) {
        const dl = await explain(m, xi, { method: 'deeplift', target, baseline: bi });
        const gap = Math.abs(dl.score! - dl.baselineScore!);
        worst = Math.max(worst, Math.abs(dl.delta!) / Math.max(1e-3, gap));
      }
    }
    // float32 through conv, pool and dense: the residual is rounding (the old rule missed by 4–96% here)
    expect(worst).toBeLessThan(1e-4);
  });

  it('KernelSHAP with every coalition equals the exact Shapley values (enumeration, 10 features)', {
    tags: ['hand-computed'],
  }, async () => {
    const m = new nn.Sequential(
      { input: [10], layers: [{ type: 'dense', units: 8 }, { type: 'tanh' }, { type: 'dense', units: 3 }] },
      { backend: js, rng: new Rng(3) },
    );
    const model = fromSequential(m);
    // v(S) for every subset: features in S from x, the rest from the baseline
    const M = 10,
      v = new Float64Array(2 ** M);
    const inputs = Array.from({ length: 2 ** M }, (_, s) =>
      Float32Array.from(x, (xi, i) => ((s >> i) & 1 ? xi : base[i])),
    );
    const flat = new Float32Array(2 ** M * M);
    inputs.forEach((inp, s) => {
      flat.set(inp, s * M);
    });
    const scores = await model.scores(flat, 2 ** M);
    for (let s = 0; s < 2 ** M; s++) v[s] = scores[s * 3 + 0];
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    const exact = new Float64Array(M);
    for (let i = 0; i < M; i++)
      for (let s = 0; s < 2 ** M; s++) {
        if ((s >> i) & 1) continue;
        let size = 0;
        for (let j = 0; j < M; j++) size += (s >> j) & 1;
        exact[i] += ((fact(size) * fact(M - size - 1)) / fact(M)) * (v[s | (1 << i)] - v[s]);
      }
    const featureMask = Int32Array.from({ length: M }, (_, i) => i);
    const shap = await explain(m, x, {
      method: 'kernel-shap',
      target: 0,
      baseline: base,
      featureMask,
      samples: 2 ** M,
    });
    expectClose(shap.values, exact, 1e-4, 1e-5, 'KernelSHAP vs enumeration');
    // a sampled budget approaches them
    const sampled = await explain(m, x, {
      method: 'kernel-shap',
      target: 0,
      baseline: base,
      featureMask,
      samples: 400,
      seed: 1,
    });
    const err = Math.max(...Array.from(sampled.values, (a, i) => Math.abs(a - exact[i])));
    expect(err).toBeLessThan(0.1 * Math.max(...exact.map(Math.abs)));
  });

  it('occlusion with a 1×1 window and stride equals single-feature ablation', { tags: ['invariant'] }, async () => {
    const { m } = linear();
    const occ = await explain(m, x, { method: 'occlusion', target: 1, baseline: base, window: [1, 1], stride: [1, 1] });
    const abl = await explain(m, x, { method: 'feature-ablation', target: 1, baseline: base });
    expectClose(occ.values, abl.values, 0, 1e-6, 'occlusion 1×1 vs ablation');
  });

  it('IG on an MNIST CNN is complete: |delta| ≤ 1% of |F(x) − F(x′)| at 64 steps', {
    tags: ['invariant'],
    timeout: 60_000,
  }, async () => {
    const mnist = await loadMnist();
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'cnn',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 1,
      optimizer: { type: 'adam', lr: 2e-3 },
    };
    const rule = createRule(config, wasmRelaxed);
    await train(rule, subset(mnist.train, 0, 512), subset(mnist.test, 0, 100), {
      epochs: 1,
      batchSize: 32,
      seed: 1,
      lr: 2e-3,
    });
    for (const i of [0, 1, 2]) {
      const img = normalizePixels(mnist.test.images.subarray(i * 784, (i + 1) * 784));
      const ig = await explain(rule, img, {
        method: 'integrated-gradients',
        samples: 64,
        baseline: normalizePixels(new Uint8Array(784))[0],
      });
      expect(
        Math.abs(ig.delta!),
        `image ${i}: delta ${ig.delta} vs F(x) − F(x′) ${ig.score! - ig.baselineScore!}`,
      ).toBeLessThanOrEqual(0.01 * Math.abs(ig.score! - ig.baselineScore!));
    }
    rule.dispose();
  });
});
