import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRule,
  explain,
  fromRule,
  LayerhiveError,
  normalizePixels,
  subset,
  train,
  UNIT_SCALE,
  type Explainable,
  type LearningRule,
} from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { wasmRelaxed } from '../helpers.js';

// README (Explanations): the model is "any model known by its predictions (`fromRule`/`fromScores`: NoProp, an ONNX
// session), which gets the perturbation methods". A NoProp-DT model has no single differentiable stack of layers
// (T blocks, each fed a noisy label embedding), so gradient methods must be refused with a typed error, and the
// perturbation methods must give attributions that obey their own definitions.

const SHAPE = [1, 28, 28];
const mnist = await loadMnist();
let rule: LearningRule, model: Explainable, x: Float32Array, target: number;

/** One sample's class scores, scored alone (batch of 1), independently of the method under test. */
async function score(input: Float32Array, t: number): Promise<number> {
  return (await model.scores(input, 1))[t];
}

beforeAll(async () => {
  rule = createRule(
    {
      rule: 'noprop-dt',
      model: 'mlp',
      inputShape: SHAPE,
      classes: 10,
      seed: 3,
      optimizer: { type: 'adam', lr: 1e-3 },
      noprop: { T: 2 },
    },
    wasmRelaxed,
  );
  // pixels in [0, 1] (not MNIST's mean/std): the background is exactly 0, the same as a zero baseline
  await train(rule, subset(mnist.train, 0, 300), subset(mnist.test, 0, 50), {
    epochs: 1,
    batchSize: 32,
    seed: 1,
    lr: 1e-3,
    normalization: UNIT_SCALE,
  });
  model = fromRule(rule, SHAPE, 10);
  x = normalizePixels(mnist.test.images.subarray(0, 784), UNIT_SCALE);
  const s = await model.scores(x, 1);
  target = s.indexOf(Math.max(...s));
}, 60_000);
afterAll(() => rule?.dispose());

describe('explaining a NoProp-DT model through fromRule (perturbation methods only)', () => {
  it('fromRule gives a predictions-only Explainable: no gradients, no layers', { tags: ['behaviour'] }, () => {
    expect(model.inputShape).toEqual(SHAPE);
    expect(model.classes).toBe(10);
    expect(model.gradients).toBeUndefined();
    expect(model.layerGradients).toBeUndefined();
    expect(model.deeplift).toBeUndefined();
  });

  it.each(['saliency', 'integrated-gradients', 'smoothgrad', 'gradient-shap'] as const)(
    '%s is refused with a typed INVALID_ARGUMENT naming the perturbation methods',
    { tags: ['behaviour'] },
    async (method) => {
      const e = await explain(model, x, { method, target, samples: 4 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(LayerhiveError);
      expect((e as LayerhiveError).code).toBe('INVALID_ARGUMENT');
      expect((e as LayerhiveError).message).toMatch(/no gradients/);
      expect((e as LayerhiveError).hint).toMatch(/occlusion.*kernel-shap/);
    },
  );

  it('the rule itself (not wrapped) is refused with a hint to wrap its predictions', {
    tags: ['behaviour'],
  }, async () => {
    const e = await explain(rule, x, { method: 'occlusion', target }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LayerhiveError);
    expect((e as LayerhiveError).code).toBe('INVALID_ARGUMENT');
    expect((e as LayerhiveError).message).toMatch(/noprop-dt model is not a stack of layers/);
    expect((e as LayerhiveError).hint).toMatch(/fromScores/);
  });

  it('an input scores the same wherever it sits in a batch (what every perturbation method relies on)', {
    tags: ['invariant'],
  }, async () => {
    // the perturbation methods score x and its perturbed copies in one batch; a score that depends on the row
    // (e.g. each row drawing its own z_0 from the inference stream) turns into attribution of unchanged pixels
    const alone = await model.scores(x, 1);
    const batch = new Float32Array(3 * 784);
    batch.set(new Float32Array(784), 0);
    batch.set(new Float32Array(784), 784);
    batch.set(x, 2 * 784);
    const third = (await model.scores(batch, 3)).slice(20, 30);
    let worst = 0;
    for (let k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(third[k] - alone[k]));
    expect(worst).toBe(0);
  });

  it('occlusion: a window of background (all 0, baseline 0) gets exactly 0; one on the digit does not', {
    tags: ['invariant'],
  }, async () => {
    const a = await explain(model, x, { method: 'occlusion', target, window: [4, 4], baseline: 0 });
    expect(a.shape).toEqual(SHAPE);
    expect(a.score).toBeCloseTo(await score(x, target), 5);
    let blank = 0,
      inked = 0,
      worstBlank = 0,
      largestInked = 0;
    for (let y0 = 0; y0 < 28; y0 += 4)
      for (let x0 = 0; x0 < 28; x0 += 4) {
        let ink = false;
        for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) ink ||= x[y * 28 + xx] !== 0;
        // stride = window: every pixel of a window carries that window's score drop
        const v = a.values[y0 * 28 + x0];
        for (let y = y0; y < y0 + 4; y++) for (let xx = x0; xx < x0 + 4; xx++) expect(a.values[y * 28 + xx]).toBe(v);
        if (ink) {
          inked++;
          largestInked = Math.max(largestInked, Math.abs(v));
        } else {
          blank++;
          worstBlank = Math.max(worstBlank, Math.abs(v));
        }
      }
    expect(blank).toBeGreaterThan(10);
    expect(inked).toBeGreaterThan(3);
    // occluding nothing changes nothing: the same input must score the same wherever it sits in a batch
    expect(worstBlank).toBe(0);
    expect(largestInked).toBeGreaterThan(1e-4);
  });

  it('kernel-shap: Σφ = F(x) − F(0) (efficiency), and with 4 features the exact Shapley values', {
    tags: ['hand-computed'],
  }, async () => {
    const fx = await score(x, target),
      f0 = await score(new Float32Array(784), target);
    // four quadrants as features: 2^4 − 2 = 14 coalitions fit the budget, so KernelSHAP enumerates them exactly
    const quadrant = Int32Array.from(
      { length: 784 },
      (_, i) => (Math.floor(i / 28) < 14 ? 0 : 2) + (i % 28 < 14 ? 0 : 1),
    );
    const a = await explain(model, x, { method: 'kernel-shap', target, featureMask: quadrant, baseline: 0 });
    const phi = [0, 1, 2, 3].map((g) => a.values[quadrant.indexOf(g)]);
    for (let i = 0; i < 784; i++) expect(a.values[i]).toBe(phi[quadrant[i]]);
    // against F scored here, one input per call, not the method's own score/baselineScore
    const sum = phi.reduce((p, v) => p + v, 0);
    expect(Math.abs(fx - f0)).toBeGreaterThan(1e-3);
    expect(Math.abs(sum - (fx - f0))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(fx - f0)));
    // the Shapley values by enumeration over the 2^4 coalitions (each scored alone)
    const v = new Map<number, number>();
    for (let mask = 0; mask < 16; mask++)
      v.set(
        mask,
        await score(
          Float32Array.from(x, (p, i) => ((mask >> quadrant[i]) & 1 ? p : 0)),
          target,
        ),
      );
    const fact = [1, 1, 2, 6, 24];
    const popcount = (m: number) => [0, 1, 2, 3].filter((j) => (m >> j) & 1).length;
    for (let j = 0; j < 4; j++) {
      let shapley = 0;
      for (let s = 0; s < 16; s++) {
        if ((s >> j) & 1) continue;
        const k = popcount(s);
        shapley += ((fact[k] * fact[4 - k - 1]) / fact[4]) * (v.get(s | (1 << j))! - v.get(s)!);
      }
      expect(phi[j], `feature ${j}`).toBeCloseTo(shapley, 4);
    }
  });

  it('kernel-shap with the default 4×4 superpixels (49 features, sampled coalitions) keeps efficiency', {
    tags: ['invariant'],
  }, async () => {
    const fx = await score(x, target),
      f0 = await score(new Float32Array(784), target);
    const a = await explain(model, x, { method: 'kernel-shap', target, samples: 512, seed: 2 });
    let sum = 0;
    for (let y0 = 0; y0 < 28; y0 += 4) for (let x0 = 0; x0 < 28; x0 += 4) sum += a.values[y0 * 28 + x0];
    expect(Math.abs(sum - (fx - f0))).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(fx - f0)));
    expect(a.delta).toBe(0);
  });
});
