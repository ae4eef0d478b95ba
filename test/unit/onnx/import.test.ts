/**
 * ONNX import: an exported network comes back with the same outputs; MatMul+Add, Reshape, Dropout and a final
 * Softmax map onto layers; an unsupported op names its node; mutated bytes are errors, never crashes or hangs.
 */
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx, loadOnnx, LayerhiveError, nn, Rng, tensor, tidy } from '../../../src/index.js';
import { randomArray, wasmRelaxed, expectClose } from '../helpers.js';
import { bytesOf, init, onnx, vi, unnamed } from './graphs.js';

describe('ONNX import', () => {
  it('an exported CNN comes back with the same predictions', { tags: ['invariant'] }, async () => {
    const model = new nn.Sequential(
      {
        input: [1, 12, 12],
        layers: [
          { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
          { type: 'batchnorm' },
          { type: 'relu' },
          { type: 'maxpool2d', kernel: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 5 },
        ],
      },
      { backend: wasmRelaxed, rng: new Rng(3) },
    );
    const { model: back, notes } = await loadOnnx(await exportOnnx(model), wasmRelaxed);
    expect(notes).toEqual([]);
    const x = tensor(randomArray(new Rng(4), 2 * 144), [2, 1, 12, 12], 'float32', wasmRelaxed);
    expectClose(
      tidy(() => back.predict(x).dataSync()),
      tidy(() => model.predict(x).dataSync()),
      1e-6,
      1e-6,
      'round trip',
    );
  });

  it('a depthwise separable, grouped, dilated CNN with per-side pads comes back with its layers and predictions', {
    tags: ['invariant'],
  }, async () => {
    const layers: nn.ModelSpec['layers'] = [
      { type: 'conv2d', filters: 6, kernel: 3, stride: 2, pad: [0, 1, 1, 0] },
      { type: 'conv2d', filters: 12, kernel: 3, pad: 1, groups: 6, bias: false },
      { type: 'conv2d', filters: 8, kernel: [3, 2], stride: 1, pad: [2, 1], dilation: [2, 1], groups: 4 },
      { type: 'flatten' },
      { type: 'dense', units: 5 },
    ];
    const model = new nn.Sequential({ input: [3, 11, 10], layers }, { backend: wasmRelaxed, rng: new Rng(5) });
    const bytes = await exportOnnx(model);
    // the spec comes back with every attribute spelled out (strides, pads [2, 1] on both sides as a pair)
    expect(unnamed((await importOnnx(bytes)).spec.layers)).toEqual([
      { type: 'conv2d', filters: 6, kernel: [3, 3], stride: [2, 2], pad: [0, 1, 1, 0], bias: true },
      { type: 'conv2d', filters: 12, kernel: [3, 3], stride: [1, 1], pad: [1, 1], groups: 6, bias: false },
      {
        type: 'conv2d',
        filters: 8,
        kernel: [3, 2],
        stride: [1, 1],
        pad: [2, 1],
        dilation: [2, 1],
        groups: 4,
        bias: true,
      },
      { type: 'flatten' },
      { type: 'dense', units: 5, bias: true },
    ]);
    const { model: back } = await loadOnnx(bytes, wasmRelaxed);
    const x = tensor(randomArray(new Rng(6), 2 * 330), [2, 3, 11, 10], 'float32', wasmRelaxed);
    expectClose(
      tidy(() => back.predict(x).dataSync()),
      tidy(() => model.predict(x).dataSync()),
      1e-6,
      1e-6,
      'round trip',
    );
  });

  it('MatMul + Add, Reshape to [N, −1], Gemm with transB, ' +
    'Dropout (opset 13) and a final Softmax map onto layers', { tags: ['hand-computed'] }, async () => {
    const W1 = randomArray(new Rng(1), 6 * 4),
      b1 = randomArray(new Rng(2), 4),
      W2 = randomArray(new Rng(3), 3 * 4);
    const graph = onnx.GraphProto.create({
      name: 'g',
      node: [
        { opType: 'Reshape', input: ['x', 'shape'], output: ['r'], name: 'reshape' },
        { opType: 'MatMul', input: ['r', 'W1'], output: ['m'], name: 'mm' },
        { opType: 'Add', input: ['m', 'b1'], output: ['a'], name: 'add' },
        { opType: 'Dropout', input: ['a'], output: ['d'], name: 'drop' },
        { opType: 'Tanh', input: ['d'], output: ['t'], name: 'tanh' },
        {
          opType: 'Gemm',
          input: ['t', 'W2'],
          output: ['g'],
          name: 'gemm',
          attribute: [
            { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
            { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.5 },
          ],
        },
        { opType: 'Softmax', input: ['g'], output: ['y'], name: 'softmax' },
      ],
      initializer: [
        init('shape', [2], [0, -1], onnx.TensorProto.DataType.INT64),
        init('W1', [6, 4], W1),
        init('b1', [4], b1),
        init('W2', [3, 4], W2),
      ],
      input: [vi('x', ['N', 2, 3])],
      output: [vi('y', ['N', 3])],
    });
    const m = await importOnnx(bytesOf(graph));
    expect(unnamed(m.spec)).toEqual({
      input: [2, 3],
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 4, bias: true },
        { type: 'tanh' },
        { type: 'dense', units: 3, bias: false },
      ],
    });
    expect(m.notes.join(' ')).toMatch(/Dropout node 'drop' dropped.*final Softmax 'softmax' was dropped/);
    const { model } = await loadOnnx(bytesOf(graph), wasmRelaxed);
    const x = randomArray(new Rng(5), 6);
    const h = Array.from({ length: 4 }, (_, j) =>
      Math.tanh(b1[j] + Array.from(x).reduce((s, v, i) => s + v * W1[i * 4 + j], 0)),
    );
    const logits = Array.from({ length: 3 }, (_, o) => 0.5 * h.reduce((s, v, j) => s + v * W2[o * 4 + j], 0));
    expectClose(
      tidy(() => model.predict(tensor(x, [1, 2, 3], 'float32', wasmRelaxed)).dataSync()),
      logits,
      1e-5,
      1e-6,
      'hand-built graph',
    );
  });

  it('an unsupported op is an error naming the node and the op', { tags: ['behaviour'] }, async () => {
    const graph = onnx.GraphProto.create({
      name: 'g',
      node: [{ opType: 'LSTM', input: ['x'], output: ['y'], name: 'my_lstm' }],
      input: [vi('x', ['N', 4])],
      output: [vi('y', ['N', 4])],
    });
    await expect(importOnnx(bytesOf(graph))).rejects.toThrow(
      /node 'my_lstm' has op LSTM, which layerhive does not import/,
    );
    await expect(importOnnx(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toThrow(LayerhiveError);
  });

  it('fuzz: 300 mutated and truncated models are a result or a typed error, never another exception', {
    tags: ['behaviour'],
  }, async () => {
    const model = new nn.Sequential(
      {
        input: [1, 6, 6],
        layers: [
          { type: 'conv2d', filters: 2, kernel: 3 },
          { type: 'tanh' },
          { type: 'flatten' },
          { type: 'dense', units: 3 },
        ],
      },
      { backend: wasmRelaxed, rng: new Rng(9) },
    );
    const good = await exportOnnx(model);
    const rng = new Rng(77);
    let errors = 0,
      loaded = 0;
    for (let k = 0; k < 300; k++) {
      const b = Uint8Array.from(good);
      const kind = k % 3;
      if (kind === 0) for (let j = 0; j < 1 + rng.int(8); j++) b[rng.int(b.length)] = rng.int(256);
      const bytes =
        kind === 1
          ? b.subarray(0, rng.int(b.length))
          : kind === 2
            ? Uint8Array.from([
                ...b.subarray(0, rng.int(b.length)),
                ...Array.from({ length: rng.int(40) }, () => rng.int(256)),
              ])
            : b;
      try {
        const r = await loadOnnx(bytes, wasmRelaxed);
        loaded++;
        r.model.namedParams().forEach((t) => {
          t.dispose();
        });
      } catch (e) {
        expect(e, `mutation ${k}: ${String(e)}`).toBeInstanceOf(LayerhiveError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(50);
    expect(errors + loaded).toBe(300);
  });
});
