/** Exported ONNX models run in onnxruntime-node and onnxruntime-web (wasm) with layerhive's outputs (max |Δ| ≤ 1e-4). */
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { assign, exportOnnx, nn, Rng, tensor, tidy } from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { randomArray, wasmRelaxed } from '../helpers.js';

const nets: [string, number[], LayerSpec[]][] = [
  ['MLP (tanh)', [1, 28, 28], [{ type: 'flatten' }, { type: 'dense', units: 64 }, { type: 'tanh' }, { type: 'dense', units: 10 }]],
  ['CNN (tanh, max pool)', [1, 28, 28], [{ type: 'conv2d', filters: 8, kernel: 3, pad: 1 }, { type: 'tanh' }, { type: 'maxpool2d', kernel: 2 }, { type: 'conv2d', filters: 16, kernel: 3, pad: 1, stride: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }]],
  ['batch norm, avg pool with padding, GELU, sigmoid, dropout', [3, 9, 9], [{ type: 'conv2d', filters: 4, kernel: 3 }, { type: 'batchnorm' }, { type: 'gelu' }, { type: 'avgpool2d', kernel: 3, stride: 2, pad: 1 }, { type: 'flatten' }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 6 }, { type: 'sigmoid' }, { type: 'dense', units: 3, bias: false }]],
];

describe('ONNX export', () => {
  it.each(nets)('%s runs in onnxruntime-node and -web with the same outputs', async (_name, input, layers) => {
    const model = new nn.Sequential({ input, layers }, { backend: wasmRelaxed, rng: new Rng(7) });
    // give batch norm non-trivial running statistics
    for (const [k, t] of model.namedBuffers()) tidy(() => assign(t, tensor(randomArray(new Rng(k.length), t.size, k.endsWith('Var') ? 0.5 : -0.3, k.endsWith('Var') ? 2 : 0.3), t.shape, 'float32', wasmRelaxed)));
    const bytes = await exportOnnx(model);
    const N = 3, per = input.reduce((p, d) => p * d, 1);
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
  });

  it('a layer without an ONNX counterpart is a typed error naming it', async () => {
    const model = new nn.Sequential({ input: [4], layers: [{ type: 'dense', units: 3 }, { type: 'branches', merge: 'concat', branches: [[{ type: 'dense', units: 2 }], [{ type: 'dense', units: 2 }]] }] }, { backend: wasmRelaxed, rng: new Rng(1) });
    await expect(exportOnnx(model)).rejects.toThrow(/layer 1 \(branches\) has no ONNX export/);
  });
});
