/**
 * DeepLIFT through residual blocks: the rescale rule reaches the activations inside `branches` (an add merge passes
 * the multipliers to every branch, a concat its slice), so completeness — Σ attributions = F(x) − F(x′) — holds on the
 * ResNet and MobileNetV2 that PyTorch exported (test/fixtures/onnx), as Captum's DeepLift gives on the same modules.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explain, loadOnnx, nn, Rng, tensor, tidy } from '../../../src/index.js';
import { js } from '../helpers.js';

const dir = new URL('../../fixtures/onnx/', import.meta.url);

async function gap(model: nn.Sequential, x: Float32Array, base: Float32Array, target: number) {
  const a = await explain(model, x, { method: 'deeplift', target, baseline: base });
  const shape = [1, ...model.spec.input];
  const f = (v: Float32Array) => tidy(() => model.predict(tensor(v, shape, 'float32', js)).dataSync()[target]);
  const dF = f(x) - f(base);
  const sum = a.values.reduce((p, v) => p + v, 0);
  return { sum, dF };
}

describe('DeepLIFT through branches', { tags: ['invariant'] }, () => {
  it.each(['resnet.torchscript13-nofold', 'resnet.dynamo', 'mobilenetv2.dynamo'])(
    '%s: Σ attributions = F(x) − F(x′) to 1e-5 (zero and random baselines)',
    async (f) => {
      const { model } = await loadOnnx(new Uint8Array(readFileSync(new URL(`${f}.onnx`, dir))), js);
      const j = JSON.parse(readFileSync(new URL(`${f}.json`, dir), 'utf8'));
      const n = model.spec.input.reduce((p, d) => p * d, 1);
      const x = Float32Array.from(j.input.data.slice(0, n));
      const rng = new Rng(7);
      for (const base of [new Float32Array(n), Float32Array.from({ length: n }, () => rng.normal() * 0.5)])
        for (const target of [0, 3]) {
          const { sum, dF } = await gap(model, x, base, target);
          expect(Math.abs(sum - dF), `${f} target ${target}: Σ ${sum} vs ΔF ${dF}`).toBeLessThanOrEqual(
            1e-5 * Math.max(1, Math.abs(dF)),
          );
        }
    },
  );

  it('a hand-built residual CNN with a concat block and max-pooling inside a branch', async () => {
    const model = new nn.Sequential(
      {
        input: [2, 8, 8],
        layers: [
          { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
          { type: 'relu' },
          {
            type: 'branches',
            merge: 'add',
            branches: [[], [{ type: 'conv2d', filters: 4, kernel: 3, pad: 1 }, { type: 'relu' }]],
          },
          {
            type: 'branches',
            merge: 'concat',
            branches: [
              [{ type: 'maxpool2d', kernel: 2 }],
              [{ type: 'conv2d', filters: 3, kernel: 2, stride: 2 }, { type: 'tanh' }],
            ],
          },
          { type: 'flatten' },
          { type: 'dense', units: 5 },
        ],
      },
      { backend: js, rng: new Rng(11) },
    );
    const rng = new Rng(12);
    const x = Float32Array.from({ length: 128 }, () => rng.normal());
    for (const base of [new Float32Array(128), Float32Array.from({ length: 128 }, () => rng.normal())]) {
      const { sum, dF } = await gap(model, x, base, 2);
      expect(Math.abs(sum - dF), `Σ ${sum} vs ΔF ${dF}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(dF)));
    }
  });
});
