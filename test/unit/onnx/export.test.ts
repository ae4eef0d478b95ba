/**
 * Exported ONNX models run in onnxruntime-node and onnxruntime-web (wasm) with layerhive's outputs (max |Δ| ≤ 1e-4).
 */
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import {
  assign,
  createRule,
  exportOnnx,
  MNIST_NORMALIZATION,
  nn,
  readContract,
  Rng,
  tensor,
  tidy,
  type RuleConfig,
} from '../../../src/index.js';
import type { NoPropDT } from '../../../src/learn/noprop/dt.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { randomArray, wasmRelaxed } from '../helpers.js';

const nets: [string, number[], LayerSpec[]][] = [
  [
    'MLP (tanh)',
    [1, 28, 28],
    [{ type: 'flatten' }, { type: 'dense', units: 64 }, { type: 'tanh' }, { type: 'dense', units: 10 }],
  ],
  [
    'CNN (tanh, max pool)',
    [1, 28, 28],
    [
      { type: 'conv2d', filters: 8, kernel: 3, pad: 1 },
      { type: 'tanh' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', filters: 16, kernel: 3, pad: 1, stride: 2 },
      { type: 'relu' },
      { type: 'flatten' },
      { type: 'dense', units: 10 },
    ],
  ],
  [
    'batch norm, avg pool with padding, GELU, sigmoid, dropout',
    [3, 9, 9],
    [
      { type: 'conv2d', filters: 4, kernel: 3 },
      { type: 'batchnorm' },
      { type: 'gelu' },
      { type: 'avgpool2d', kernel: 3, stride: 2, pad: 1 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 6 },
      { type: 'sigmoid' },
      { type: 'dense', units: 3, bias: false },
    ],
  ],
  [
    'depthwise separable (MobileNet), grouped, dilated, per-side pads on convolutions and pools',
    [3, 12, 11],
    [
      { type: 'conv2d', filters: 6, kernel: 3, stride: 2, pad: [0, 0, 1, 1] },
      { type: 'relu' },
      { type: 'conv2d', filters: 12, kernel: 3, pad: 1, groups: 6 },
      { type: 'conv2d', filters: 8, kernel: 1 },
      { type: 'conv2d', filters: 8, kernel: [3, 2], pad: [2, 1], dilation: [2, 1], groups: 2 },
      { type: 'tanh' },
      { type: 'maxpool2d', kernel: 2, pad: [0, 0, 1, 1] },
      { type: 'avgpool2d', kernel: 3, stride: 1, pad: [1, 0, 2, 1], countPad: true },
      { type: 'flatten' },
      { type: 'dense', units: 5 },
    ],
  ],
];

describe('ONNX export', () => {
  it.each(nets)(
    '%s runs in onnxruntime-node and -web with the same outputs',
    { tags: ['outside'] },
    async (_name, input, layers) => {
      const model = new nn.Sequential({ input, layers }, { backend: wasmRelaxed, rng: new Rng(7) });
      // give batch norm non-trivial running statistics
      for (const [k, t] of model.namedBuffers())
        tidy(() =>
          assign(
            t,
            tensor(
              randomArray(new Rng(k.length), t.size, k.endsWith('Var') ? 0.5 : -0.3, k.endsWith('Var') ? 2 : 0.3),
              t.shape,
              'float32',
              wasmRelaxed,
            ),
          ),
        );
      const bytes = await exportOnnx(model);
      const N = 3,
        per = input.reduce((p, d) => p * d, 1);
      const x = randomArray(new Rng(3), N * per, -1, 1);
      const expected = tidy(() => model.predict(tensor(x, [N, ...input], 'float32', wasmRelaxed)).dataSync());
      for (const ort of [ortNode, ortWeb] as const) {
        const session = await (ort as typeof ortNode).InferenceSession.create(bytes);
        const out = await session.run({ input: new (ort as typeof ortNode).Tensor('float32', x, [N, ...input]) });
        const got = out.logits.data as Float32Array;
        expect(got.length).toBe(expected.length);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        expect(worst, ort === ortNode ? 'onnxruntime-node' : 'onnxruntime-web').toBeLessThanOrEqual(1e-4);
        await session.release();
      }
    },
  );

  it.each(['mlp', 'cnn'] as const)(
    "NoProp-DT (%s blocks): the unrolled inference, fed pixels in [0, 1], gives rule.predict's outputs in " +
      'onnxruntime-node and -web',
    { tags: ['outside'] },
    async (block) => {
      const config: RuleConfig = {
        rule: 'noprop-dt',
        model: block,
        inputShape: [1, 28, 28],
        classes: 10,
        seed: 2,
        optimizer: { type: 'adam', lr: 1e-3 },
        noprop: { T: 3 },
      };
      const rule = createRule(config, wasmRelaxed) as NoPropDT;
      const bytes = await exportOnnx(rule);
      // the graph takes pixels and normalises them itself (MNIST's mean and std); rule.predict takes them normalised
      const N = 2,
        x = randomArray(new Rng(5), N * 784, 0, 1),
        normalized = x.map((v) => (v - MNIST_NORMALIZATION.mean) / MNIST_NORMALIZATION.std);
      const { z } = rule.initialNoise(N);
      const noise = Float32Array.from(z.dataSync() as Float32Array);
      z.dispose();
      // the contract's z_0 row, on every row, is the noise predict starts from
      const z0 = (await readContract(bytes))!.noise!.z0;
      expect(Array.from(noise)).toEqual([...z0, ...z0]);
      const expected = tidy(() => rule.predict(tensor(normalized, [N, 1, 28, 28], 'float32', wasmRelaxed)).dataSync());
      for (const ort of [ortNode, ortWeb] as const) {
        const O = ort as typeof ortNode;
        const session = await O.InferenceSession.create(bytes);
        expect(session.inputNames).toEqual(['input', 'noise']);
        const got = (
          await session.run({
            input: new O.Tensor('float32', x, [N, 1, 28, 28]),
            noise: new O.Tensor('float32', noise, [N, 10]),
          })
        ).logits.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
        expect(got.length).toBe(expected.length);
        expect(worst, ort === ortNode ? 'onnxruntime-node' : 'onnxruntime-web').toBeLessThanOrEqual(1e-4);
        await session.release();
      }
      rule.dispose();
    },
  );

  it('NoProp-DT with inference noise is refused: its description has noisy steps, which a graph cannot draw', {
    tags: ['behaviour'],
  }, async () => {
    const config: RuleConfig = {
      rule: 'noprop-dt',
      model: 'mlp',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 2,
      optimizer: { type: 'adam', lr: 1e-3 },
      noprop: { T: 3, inferenceNoise: true },
    };
    const rule = createRule(config, wasmRelaxed) as NoPropDT;
    expect(rule.inference().steps.filter((s) => s.noise > 0).length).toBeGreaterThan(0);
    await expect(exportOnnx(rule)).rejects.toThrow(/fresh noise at every inference step/);
    rule.dispose();
  });

  it('a NoProp-CT rule is a typed error (its time-conditioned network has no export yet)', {
    tags: ['behaviour'],
  }, async () => {
    const rule = createRule(
      {
        rule: 'noprop-ct',
        model: 'mlp',
        inputShape: [1, 28, 28],
        classes: 10,
        seed: 1,
        optimizer: { type: 'adam', lr: 1e-3 },
      },
      wasmRelaxed,
    );
    await expect(exportOnnx(rule)).rejects.toThrow(/a noprop-ct model has no ONNX export yet/);
    rule.dispose();
  });

  it('a layer without an ONNX counterpart is a typed error naming it; branches export as Add / Concat', {
    tags: ['behaviour'],
  }, async () => {
    const emb = new nn.Sequential(
      { input: [4], layers: [{ type: 'embedding', vocab: 10, dim: 3 }] },
      { backend: wasmRelaxed, rng: new Rng(1) },
    );
    await expect(exportOnnx(emb)).rejects.toThrow(/layer 0 \(embedding\) has no ONNX export/);
    for (const merge of ['add', 'concat'] as const) {
      const model = new nn.Sequential(
        {
          input: [4],
          layers: [
            { type: 'dense', units: 3 },
            {
              type: 'branches',
              merge,
              branches: [[], [{ type: 'dense', units: 3 }, { type: 'tanh' }], [{ type: 'relu' }]],
            },
          ],
        },
        { backend: wasmRelaxed, rng: new Rng(1) },
      );
      const x = randomArray(new Rng(2), 8, -1, 1);
      const expected = tidy(() => model.predict(tensor(x, [2, 4], 'float32', wasmRelaxed)).dataSync());
      const session = await ortNode.InferenceSession.create(await exportOnnx(model));
      const got = (await session.run({ input: new ortNode.Tensor('float32', x, [2, 4]) })).logits.data as Float32Array;
      expect(got.length, merge).toBe(merge === 'add' ? 6 : 18);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - expected[i]), merge).toBeLessThanOrEqual(1e-5);
      await session.release();
    }
  });
});
