// @module-tag behaviour
/**
 * Options are checked like every other input: a wrong one, for every method, is a LayerhiveError with a code whose
 * message names the option and whose hint shows an accepted value; the old `samples` is still taken as each
 * method's count; CAM layers by name (the spec's `name`, else Keras-style `conv2d`, `conv2d_1`, …) or index.
 */
import { describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  explain,
  type ExplainOptions,
  fromSequential,
  LayerhiveError,
  type MethodName,
  methodNames,
  nn,
  Rng,
} from '../../../src/index.js';
import { layerNames } from '../../../src/explain/model.js';
import { js } from '../helpers.js';

const layers = [
  { type: 'conv2d', filters: 3, kernel: 3, pad: 1, name: 'features' },
  { type: 'relu' },
  { type: 'conv2d', filters: 2, kernel: 3, pad: 1 },
  { type: 'relu' },
  { type: 'flatten' },
  { type: 'dense', units: 3 },
] as const;
const cnn = new nn.Sequential(
  { input: [1, 6, 6], layers: layers.map((l) => ({ ...l })) },
  { backend: js, rng: new Rng(2) },
);
const x = new Rng(3).fillUniform(new Float32Array(36), -1, 1);

async function failure(run: () => Promise<unknown>): Promise<LayerhiveError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof LayerhiveError) return e;
    throw new Error(`not a LayerhiveError: ${e}`);
  }
  throw new Error('no error');
}

/** For each method a wrong value of an option it takes, the option's name and the code expected. */
const wrong: Record<MethodName, [Partial<Record<string, unknown>>, string, ErrorCode]> = {
  saliency: [{ target: 7 }, 'target', 'INVALID_ARGUMENT'],
  'input-x-gradient': [{ target: 1.5 }, 'target', 'INVALID_ARGUMENT'],
  smoothgrad: [{ noiseSamples: 0 }, 'noiseSamples', 'INVALID_ARGUMENT'],
  'smoothgrad-sq': [{ noise: -1 }, 'noise', 'INVALID_ARGUMENT'],
  vargrad: [{ noiseShare: Number.NaN }, 'noiseShare', 'INVALID_ARGUMENT'],
  'integrated-gradients': [{ integration: 'simpson' }, 'integration', 'INVALID_ARGUMENT'],
  'guided-backprop': [{ guidedActivations: 'tanh' }, 'guidedActivations', 'INVALID_ARGUMENT'],
  deeplift: [{ baseline: new Float32Array(5) }, 'baseline', 'SHAPE_MISMATCH'],
  'gradient-shap': [{ background: [] }, 'background', 'INVALID_ARGUMENT'],
  occlusion: [{ stride: [3] }, 'stride', 'INVALID_ARGUMENT'],
  'feature-ablation': [{ featureMask: new Int32Array(5) }, 'featureMask', 'SHAPE_MISMATCH'],
  lime: [{ nSamples: -4 }, 'nSamples', 'INVALID_ARGUMENT'],
  'kernel-shap': [{ steps: 64 }, 'steps', 'INVALID_ARGUMENT'],
  rise: [{ seed: 1.5 }, 'seed', 'INVALID_ARGUMENT'],
  'grad-cam': [{ layer: 'conv9' }, 'layer', 'INVALID_ARGUMENT'],
  'grad-cam++': [{ layer: 99 }, 'layer', 'INVALID_ARGUMENT'],
  'smooth-grad-cam++': [{ noiseSamples: 'many' }, 'noiseSamples', 'INVALID_ARGUMENT'],
  normgrad: [{ batchSize: 0 }, 'batchSize', 'INVALID_ARGUMENT'],
};

describe('option errors', () => {
  it.each(methodNames)('%s: a wrong option is a typed error naming it, with an accepted value', async (method) => {
    const [bad, name, code] = wrong[method];
    const e = await failure(() => explain(cnn, x, { method, ...bad } as ExplainOptions));
    expect(e.code).toBe(code);
    expect(e.detail).toContain(name);
    expect(e.hint).toMatch(/e\.g\.|use one of|its count is/);
  });

  it('`stride: 3` is one number for both axes (it was `TypeError: number 3 is not iterable`)', async () => {
    const a = await explain(cnn, x, { method: 'occlusion', window: 3, stride: 3, target: 0 });
    const b = await explain(cnn, x, { method: 'occlusion', window: [3, 3], stride: [3, 3], target: 0 });
    expect(a.values).toEqual(b.values);
  });

  it("an unknown option is an error, and Captum's name for one of ours says which", async () => {
    const e = await failure(() =>
      explain(cnn, x, { method: 'occlusion', perturbationsPerEval: 8 } as unknown as ExplainOptions),
    );
    expect([e.code, e.detail, e.hint]).toEqual([
      'INVALID_ARGUMENT',
      'occlusion: unknown option perturbationsPerEval',
      'layerhive calls it batchSize',
    ]);
  });

  it('a batch needs a target per input (SHAPE_MISMATCH otherwise)', async () => {
    const e = await failure(() => explain(cnn, [x, x, x], { method: 'saliency', target: [0, 1] }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.detail).toContain('target');
  });

  it("the old `samples` is each method's count: steps for IG, noiseSamples for SmoothGrad, nSamples for SHAP", {
    tags: ['behaviour'],
  }, async () => {
    for (const [method, name] of [
      ['integrated-gradients', 'steps'],
      ['smoothgrad', 'noiseSamples'],
      ['kernel-shap', 'nSamples'],
    ] as const) {
      const old = await explain(cnn, x, { method, samples: 7, target: 1 });
      const now = await explain(cnn, x, { method, [name]: 7, target: 1 });
      expect(old.values, method).toEqual(now.values);
      expect(old.modelCalls, method).toBe(now.modelCalls);
    }
    // saliency counts nothing: the CLI passes --samples to every method it runs
    await expect(explain(cnn, x, { method: 'saliency', samples: 7 })).resolves.toBeDefined();
    const e = await failure(() => explain(cnn, x, { method: 'integrated-gradients', samples: 7, steps: 8 }));
    expect(e.hint).toBe('samples is the old name of steps: pass steps only');
  });
});

describe('layers by name', () => {
  it("names: the spec's where given, else the type counted as Keras counts it, past the names given", () => {
    expect(fromSequential(cnn).layerNames).toEqual(['features', 'relu', 'conv2d', 'relu_1', 'flatten', 'dense']);
    expect(layerNames([{ type: 'relu', name: 'relu_1' }, { type: 'relu' }, { type: 'relu' }])).toEqual([
      'relu_1',
      'relu',
      'relu_2',
    ]);
    expect(() =>
      layerNames([
        { type: 'relu', name: 'a' },
        { type: 'dense', name: 'a' },
      ]),
    ).toThrow(/layers 1 and 0 are both named 'a'/);
  });

  it('Grad-CAM at a layer by name equals Grad-CAM at its index', async () => {
    for (const [name, index] of [
      ['features', 0],
      ['relu_1', 3],
    ] as const) {
      const byName = await explain(cnn, x, { method: 'grad-cam', layer: name, target: 2 });
      const byIndex = await explain(cnn, x, { method: 'grad-cam', layer: index, target: 2 });
      expect(byName.values, name).toEqual(byIndex.values);
    }
    const other = await explain(cnn, x, { method: 'grad-cam', layer: 'features', target: 2 });
    const last = await explain(cnn, x, { method: 'grad-cam', target: 2 });
    expect(other.values).not.toEqual(last.values);
  });

  it('a layer without feature maps is refused by name', async () => {
    const e = await failure(() => explain(cnn, x, { method: 'grad-cam', layer: 'dense' }));
    expect(e.detail).toMatch(/layer dense \(5\) outputs \[3\], not feature maps/);
    expect(e.hint).toBe('use one of: features (0), relu (1), conv2d (2), relu_1 (3)');
  });
});
