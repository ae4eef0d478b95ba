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
  it('fromRule gives a predictions-only Explainable: no gradients, no layers', () => {
    expect(model.inputShape).toEqual(SHAPE);
    expect(model.classes).toBe(10);
    expect(model.gradients).toBeUndefined();
    expect(model.layerGradients).toBeUndefined();
    expect(model.deeplift).toBeUndefined();
  });

  it.each(['saliency', 'integrated-gradients', 'smoothgrad', 'gradient-shap'] as const)(
    '%s is refused with a typed INVALID_ARGUMENT naming the perturbation methods',
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

  it('the rule itself (not wrapped) is refused with a hint to wrap its predictions', async () => {
    const e = await explain(rule, x, { method: 'occlusion', target }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LayerhiveError);
    expect((e as LayerhiveError).code).toBe('INVALID_ARGUMENT');
    expect((e as LayerhiveError).message).toMatch(/noprop-dt model is not a stack of layers/);
    expect((e as LayerhiveError).hint).toMatch(/fromScores/);
  });
});
