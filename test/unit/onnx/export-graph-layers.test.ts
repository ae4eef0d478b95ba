// @module-tag outside
/**
 * Networks built from the graph layers (hardswish, clip, leakyrelu, hardsigmoid, pad, layernorm, globalavgpool,
 * reshape, transpose, residual and squeeze-excitation branches) exported with exportOnnx run in onnxruntime-node with
 * model.predict's outputs (|Δ| ≤ 1e-5 + 1e-5·|y|).
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { assign, exportOnnx, nn, Rng, tensor, tidy } from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { expectClose, randomArray, wasmRelaxed } from '../helpers.js';

const nets: [string, number[], LayerSpec[]][] = [
  [
    'a CNN with every new layer: Relu6, a residual add, squeeze-excitation mul, pad, channels-last layernorm',
    [3, 8, 8],
    [
      { type: 'conv2d', filters: 8, kernel: 3, pad: 1 },
      { type: 'batchnorm' },
      { type: 'clip', min: 0, max: 6 },
      {
        type: 'branches',
        merge: 'add',
        branches: [
          [],
          [
            { type: 'conv2d', filters: 8, kernel: 3, pad: 1 },
            { type: 'hardswish' },
            { type: 'conv2d', filters: 8, kernel: 1 },
          ],
        ],
      },
      {
        type: 'branches',
        merge: 'mul',
        branches: [
          [],
          [
            { type: 'globalavgpool' },
            { type: 'conv2d', filters: 4, kernel: 1 },
            { type: 'relu' },
            { type: 'conv2d', filters: 8, kernel: 1 },
            { type: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 },
          ],
        ],
      },
      { type: 'pad', pads: [0, 1, 0, 0, 0, 1], value: 0.25 },
      { type: 'leakyrelu', alpha: 0.2 },
      { type: 'transpose', perm: [1, 2, 0] },
      { type: 'layernorm' },
      { type: 'transpose', perm: [2, 0, 1] },
      { type: 'clip', max: 1.5 },
      { type: 'clip', min: -1 },
      { type: 'hardsigmoid' },
      { type: 'globalavgpool' },
      { type: 'reshape', shape: [8] },
      { type: 'dense', units: 5 },
      { type: 'leakyrelu' },
    ],
  ],
  [
    'an MLP with LayerNorm and GELU, after a [C, H, W] · [W] broadcast and a two-axis layernorm',
    [4, 3, 4],
    [
      {
        type: 'branches',
        merge: 'mul',
        branches: [[], [{ type: 'globalavgpool' }, { type: 'reshape', shape: [4] }]],
      },
      { type: 'layernorm', dims: 2, epsilon: 1e-3 },
      { type: 'pad', pads: [1, 0, 0, 0, 0, 2] },
      { type: 'reshape', shape: [5, 18] },
      { type: 'transpose', perm: [1, 0] },
      { type: 'reshape', shape: [90] },
      { type: 'dense', units: 16 },
      { type: 'layernorm' },
      { type: 'gelu' },
      { type: 'dense', units: 6 },
      { type: 'hardswish' },
    ],
  ],
];

describe('ONNX export of the graph layers', () => {
  it.each(nets)('%s runs in onnxruntime-node with the same outputs', async (_name, input, layers) => {
    const backend = wasmRelaxed;
    const model = new nn.Sequential({ input, layers }, { backend, rng: new Rng(7) });
    // non-trivial layer-norm scales and shifts, and batch-norm running statistics
    const rng = new Rng(3);
    const params: Record<string, Float32Array> = {};
    for (const [k, t] of model.namedParams())
      if (k.endsWith('gamma') || k.endsWith('beta'))
        params[k] = randomArray(rng, t.size, k.endsWith('gamma') ? 0.5 : -0.5, k.endsWith('gamma') ? 1.5 : 0.5);
    model.setParams(params);
    for (const [k, t] of model.namedBuffers())
      tidy(() =>
        assign(
          t,
          tensor(
            randomArray(rng, t.size, k.endsWith('Var') ? 0.5 : -0.3, k.endsWith('Var') ? 2 : 0.3),
            t.shape,
            'float32',
            backend,
          ),
        ),
      );
    const bytes = await exportOnnx(model);
    // each layer as its ONNX operator, not a decomposition
    const { onnx } = await import('../../../src/onnx/proto.js');
    const ops = new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
    const want: Record<string, string> = {
      hardswish: 'HardSwish',
      clip: 'Clip',
      leakyrelu: 'LeakyRelu',
      hardsigmoid: 'HardSigmoid',
      pad: 'Pad',
      layernorm: 'LayerNormalization',
      globalavgpool: 'GlobalAveragePool',
      reshape: 'Reshape',
      transpose: 'Transpose',
    };
    for (const l of layers) if (want[l.type]) expect(ops.has(want[l.type]), want[l.type]).toBe(true);
    if (layers.some((l) => l.type === 'branches' && l.merge === 'mul')) expect(ops.has('Mul')).toBe(true);
    const N = 3,
      x = randomArray(new Rng(4), N * input.reduce((p, d) => p * d, 1), -2, 2);
    const expected = tidy(() => model.predict(tensor(x, [N, ...input], 'float32', backend)).dataSync());
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ input: new ort.Tensor('float32', x, [N, ...input]) });
    expect(out.logits.dims).toEqual([N, ...model.outputShape]);
    expectClose(out.logits.data as Float32Array, expected, 1e-5, 1e-5, 'onnxruntime-node');
    await session.release();
  });
});
