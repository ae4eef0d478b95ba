// @module-tag invariant
/**
 * The batch API: `explain(model, inputs[N], { target: number | number[] })` gives, for every method, the N
 * attributions of its inputs explained one at a time — exactly (the same rows reach the same model, and each input
 * draws the seed's random stream as if alone), also when `batchSize` cuts the batch's rows elsewhere.
 */
import { describe, expect, it } from 'vitest';
import {
  type Attribution,
  explain,
  type ExplainOptions,
  type MethodName,
  methodNames,
  nn,
  parallelExplainable,
  Rng,
  createRule,
  type RuleConfig,
} from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import { expectClose, js, wasmRelaxed } from '../helpers.js';

const cnn = new nn.Sequential(
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
  { backend: js, rng: new Rng(7) },
);
const inputs = Array.from({ length: 5 }, (_, k) => new Rng(40 + k).fillUniform(new Float32Array(64), -1, 1));
const baseline = new Rng(60).fillUniform(new Float32Array(64), -0.2, 0.2);
/** 2×2-pixel superpixels: 16 features, so KernelSHAP at 100 coalitions samples. */
const mask = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.floor(i / 8) / 2) * 4 + Math.floor((i % 8) / 2));

/** Each method with the options that make it cheap and, where it has one, random. */
const options: Record<MethodName, Omit<ExplainOptions, 'method' | 'target'>> = {
  saliency: {},
  'input-x-gradient': {},
  smoothgrad: { noiseSamples: 6, noise: 0.3, seed: 2 },
  'smoothgrad-sq': { noiseSamples: 6, noiseShare: 0.15, seed: 2 },
  vargrad: { noiseSamples: 6, seed: 3 },
  'integrated-gradients': { steps: 9 },
  'guided-backprop': {},
  deeplift: {},
  'gradient-shap': { nSamples: 7, noise: 0.1, seed: 4, background: [baseline, inputs[4]] },
  occlusion: { window: 3, stride: 2 },
  'feature-ablation': { featureMask: mask },
  lime: { nSamples: 40, featureMask: mask, seed: 5 },
  'kernel-shap': { nSamples: 100, featureMask: mask, seed: 6 },
  rise: { nSamples: 30, seed: 7 },
  'grad-cam': {},
  'grad-cam++': { layer: 'relu' },
  'smooth-grad-cam++': { noiseSamples: 4, seed: 8 },
  normgrad: { layer: 0 },
};

/** Every field but the cost equal, typed arrays element for element. */
function expectSame(batched: Attribution, alone: Attribution, what: string) {
  const { modelCalls: _a, ...b } = batched,
    { modelCalls: _b, ...a } = alone;
  expect(b, what).toEqual(a);
}

describe('explain on a batch', () => {
  it.each(methodNames)(
    '%s: N inputs at once give what each gives alone, with a target per input or the ' +
      'predicted ones, whatever batchSize cuts',
    async (method) => {
      const o = { method, baseline, ...options[method] };
      const targets = [0, 2, 1, 1, 0];
      for (const batchSize of [64, 5]) {
        const batched = await explain(cnn, inputs, { ...o, target: targets, batchSize });
        expect(batched).toHaveLength(inputs.length);
        for (const [k, x] of inputs.entries())
          expectSame(batched[k], await explain(cnn, x, { ...o, target: targets[k] }), `${method} input ${k}`);
      }
      const predicted = await explain(cnn, inputs.slice(0, 3), o);
      for (const [k, x] of inputs.slice(0, 3).entries())
        expectSame(predicted[k], await explain(cnn, x, o), `${method} input ${k}, predicted class`);
      const one = await explain(cnn, inputs.slice(0, 2), { ...o, target: 1 });
      expect(one.map((a) => a.target)).toEqual([1, 1]);
    },
  );

  it('a batch costs no more model calls per input than one input alone (IG: the baseline is scored once)', async () => {
    const alone = await explain(cnn, inputs[0], { method: 'integrated-gradients', steps: 8, target: 0 });
    const batched = await explain(cnn, inputs, { method: 'integrated-gradients', steps: 8, target: 0 });
    expect(alone.modelCalls).toBe(8 + 2);
    expect(batched[0].modelCalls).toBeCloseTo((5 * (8 + 1) + 1) / 5, 12);
  });

  it('over 2 workers a batch gives the in-thread attributions one at a time', async () => {
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'cnn',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 5,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const rule = createRule(config, wasmRelaxed);
    const spawn = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));
    const par = await parallelExplainable(config, rule, { workers: 2, spawn });
    try {
      const xs = Array.from({ length: 3 }, (_, k) => new Rng(90 + k).fillUniform(new Float32Array(784), -0.4, 2.8));
      for (const o of [
        { method: 'integrated-gradients', steps: 6, target: [1, 4, 7] },
        { method: 'occlusion', window: 7, target: [2, 2, 9] },
      ] as const) {
        const batched = await explain(par, xs, o);
        for (const [k, x] of xs.entries()) {
          const alone = await explain(rule, x, { ...o, target: o.target[k] });
          expectClose(batched[k].values, alone.values, 1e-5, 1e-7, `${o.method} input ${k}`);
        }
      }
    } finally {
      await par.close();
      rule.dispose();
    }
  });
});
