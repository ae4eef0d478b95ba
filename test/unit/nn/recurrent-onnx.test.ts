// @module-tag outside
/**
 * Recurrent networks exported with exportOnnx (ONNX RNN and GRU, linear_before_reset = 1) run in onnxruntime-node with
 * model.predict's outputs (|Δ| ≤ 1e-5 + 1e-5·|y|), last state and sequence outputs, two stacked layers included.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { exportOnnx, nn, Rng, tensor, tidy } from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { expectClose, randomArray, wasmRelaxed } from '../helpers.js';

const nets: [string, number[], LayerSpec[]][] = [
  [
    'an image read by rows into an rnn, then a head',
    [1, 6, 5],
    [
      { type: 'reshape', shape: [6, 5] },
      { type: 'rnn', units: 7 },
      { type: 'dense', units: 3 },
    ],
  ],
  [
    'a gru on the last state',
    [5, 4],
    [
      { type: 'gru', units: 6 },
      { type: 'dense', units: 3 },
    ],
  ],
  [
    'a gru sequence into an rnn sequence, flattened',
    [4, 3],
    [
      { type: 'gru', units: 5, returnSequence: true },
      { type: 'rnn', units: 4, returnSequence: true },
      { type: 'flatten' },
      { type: 'dense', units: 2 },
    ],
  ],
];

describe('ONNX export of recurrent layers', () => {
  it.each(nets)('%s runs in onnxruntime-node with the same outputs', async (_name, input, layers) => {
    const model = new nn.Sequential({ input, layers }, { backend: wasmRelaxed, rng: new Rng(7) });
    const bytes = await exportOnnx(model);
    const { onnx } = await import('../../../src/onnx/proto.js');
    const ops = new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
    for (const l of layers) if (l.type === 'rnn' || l.type === 'gru') expect(ops.has(l.type.toUpperCase())).toBe(true);
    const N = 3,
      x = randomArray(new Rng(4), N * input.reduce((p, d) => p * d, 1), -2, 2);
    const expected = tidy(() => model.predict(tensor(x, [N, ...input], 'float32', wasmRelaxed)).dataSync());
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ input: new ort.Tensor('float32', x, [N, ...input]) });
    expect(out.logits.dims).toEqual([N, ...model.outputShape]);
    expectClose(out.logits.data as Float32Array, expected, 1e-5, 1e-5, 'onnxruntime-node');
    await session.release();
  });
});
