/**
 * ONNX import by the operator spec (docs/Operators.md of onnx/onnx): defaults as the spec states them (pool strides
 * 1, auto_pad, Flatten axis 1, Softmax axis by opset), Reshape with 0 and −1, graphs with no nodes; every attribute
 * the layers cannot express is a typed error naming the node, op and attribute, never ignored.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx, LayerhiveError, loadOnnx, tensor, tidy } from '../../../src/index.js';
import { expectClose, js, wasmRelaxed } from '../helpers.js';
import { type Attr, bytesOf, graphOf, INT64, init, node, unnamed } from './graphs.js';

const nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Import a one-input graph and run it on `x` (per-sample shape from the graph) on js and wasm-relaxed. */
async function run(bytes: Uint8Array, x: number[], shape: number[]): Promise<Float32Array> {
  const outs: Float32Array[] = [];
  for (const b of [js, wasmRelaxed]) {
    const { model } = await loadOnnx(bytes, b);
    outs.push(tidy(() => Float32Array.from(model.predict(tensor(x, shape, 'float32', b)).dataSync() as Float32Array)));
    for (const t of model.namedParams().values()) t.dispose();
  }
  expectClose(outs[1], outs[0], 1e-5, 1e-6, 'wasm-relaxed vs js');
  return outs[0];
}

const pool = (op: string, a: Record<string, Attr>, opset = 13) =>
  bytesOf(graphOf([node(op, ['x'], ['y'], a)], ['N', 1, 3, 3]), opset);

const refused = async (bytes: Uint8Array, pattern: RegExp) => {
  const e = await importOnnx(bytes).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(LayerhiveError);
  expect((e as LayerhiveError).code).toBe('DATA_INVALID');
  expect((e as LayerhiveError).message).toMatch(pattern);
};

describe('pools and Conv by the spec', () => {
  it('MaxPool and AveragePool without strides slide by 1 (spec default), not by the kernel', {
    tags: ['hand-computed'],
  }, async () => {
    expect(Array.from(await run(pool('MaxPool', { kernel_shape: [2, 2] }), nine, [1, 1, 3, 3]))).toEqual([5, 6, 8, 9]);
    expect(Array.from(await run(pool('AveragePool', { kernel_shape: [2, 2] }), nine, [1, 1, 3, 3]))).toEqual([
      3, 4, 6, 7,
    ]);
    // 32×32 with a 2×2 window and no strides: 31×31 (the case)
    const m = await importOnnx(
      bytesOf(graphOf([node('MaxPool', ['x'], ['y'], { kernel_shape: [2, 2] })], ['N', 1, 32, 32])),
    );
    expect(unnamed(m.spec.layers)).toEqual([{ type: 'maxpool2d', kernel: [2, 2], stride: [1, 1], pad: [0, 0] }]);
  });

  it('auto_pad SAME_UPPER, SAME_LOWER and VALID pad as the spec computes (out = ceil(in / stride))', {
    tags: ['hand-computed'],
  }, async () => {
    const same = pool('MaxPool', { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER' });
    expect(Array.from(await run(same, nine, [1, 1, 3, 3]))).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
    // SAME_LOWER, stride 2: total pad (2 − 1)·2 + 3 − 3 = 2, one each side; the average leaves the padding out
    const lower = pool('AveragePool', { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' });
    expect(Array.from(await run(lower, nine, [1, 1, 3, 3]))).toEqual([3, 4, 6, 7]);
    const valid = pool('MaxPool', { kernel_shape: [2, 2], strides: [1, 1], auto_pad: 'VALID' });
    expect(Array.from(await run(valid, nine, [1, 1, 3, 3]))).toEqual([5, 6, 8, 9]);
    const conv = (autoPad: string) =>
      bytesOf(
        graphOf(
          [node('Conv', ['x', 'w'], ['y'], { auto_pad: autoPad })],
          ['N', 1, 3, 3],
          [init('w', [1, 1, 3, 3], Array(9).fill(1))],
        ),
      );
    expect(Array.from(await run(conv('SAME_UPPER'), nine, [1, 1, 3, 3]))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    expect(Array.from(await run(conv('SAME_LOWER'), nine, [1, 1, 3, 3]))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
    expect(Array.from(await run(conv('VALID'), nine, [1, 1, 3, 3]))).toEqual([45]);
    expect(Array.from(await run(conv('NOTSET'), nine, [1, 1, 3, 3]))).toEqual([45]);
  });

  it('Conv group (grouped, depthwise), dilations and per-side pads compute as the spec defines them', {
    tags: ['hand-computed'],
  }, async () => {
    const conv = (a: Record<string, Attr>, x: number[], w: number[], wv: number[]) =>
      bytesOf(graphOf([node('Conv', ['x', 'w'], ['y'], a)], ['N', ...x], [init('w', w, wv)]));
    // dilation 2 spreads a 2×2 kernel of ones over the corners of the 3×3 input: 1 + 3 + 7 + 9
    expect(
      Array.from(await run(conv({ dilations: [2, 2] }, [1, 3, 3], [1, 1, 2, 2], [1, 1, 1, 1]), nine, [1, 1, 3, 3])),
    ).toEqual([20]);
    // explicit pads of 1 around the span 2·(2 − 1) + 1 = 3: taps at (oy − 1 + 2i, ox − 1 + 2j)
    const padded = conv({ dilations: [2, 2], pads: [1, 1, 1, 1] }, [1, 3, 3], [1, 1, 2, 2], [1, 1, 1, 1]);
    expect(Array.from(await run(padded, nine, [1, 1, 3, 3]))).toEqual([5, 10, 5, 10, 20, 10, 5, 10, 5]);
    // a 2×2 kernel SAME on 3×3 pads one pixel in all: after (SAME_UPPER) or before (SAME_LOWER), as pads [t, l, b, r]
    const ones = [1, 1, 1, 1];
    const upper = [12, 16, 9, 24, 28, 15, 15, 17, 9],
      lower = [1, 3, 5, 5, 12, 16, 11, 24, 28];
    expect(
      Array.from(await run(conv({ auto_pad: 'SAME_UPPER' }, [1, 3, 3], [1, 1, 2, 2], ones), nine, [1, 1, 3, 3])),
    ).toEqual(upper);
    expect(
      Array.from(await run(conv({ auto_pad: 'SAME_LOWER' }, [1, 3, 3], [1, 1, 2, 2], ones), nine, [1, 1, 3, 3])),
    ).toEqual(lower);
    expect(
      Array.from(await run(conv({ pads: [1, 1, 0, 0] }, [1, 3, 3], [1, 1, 2, 2], ones), nine, [1, 1, 3, 3])),
    ).toEqual(lower);
    // pads [0, 1, 2, 0]: 3 + 2 − 2 + 1 = 4 rows, 3 + 1 − 2 + 1 = 3 columns
    expect(
      Array.from(await run(conv({ pads: [0, 1, 2, 0] }, [1, 3, 3], [1, 1, 2, 2], ones), nine, [1, 1, 3, 3])),
    ).toEqual([5, 12, 16, 11, 24, 28, 7, 15, 17, 0, 0, 0]);
    // depthwise (group 2 = C): channel 0 (1…9) through ones, channel 1 (10…90) through twos, never mixed
    const dw = conv({ group: 2 }, [2, 3, 3], [2, 1, 2, 2], [1, 1, 1, 1, 2, 2, 2, 2]);
    expect(Array.from(await run(dw, [...nine, ...nine.map((v) => 10 * v)], [1, 2, 3, 3]))).toEqual([
      12, 16, 24, 28, 240, 320, 480, 560,
    ]);
    // group 2 with two input channels and two filters per group: filter o reads channels 2·⌊o / 2⌋ and 2·⌊o / 2⌋ + 1
    const grouped = conv({ group: 2 }, [4, 1, 1], [4, 2, 1, 1], [1, 0, 0, 1, 1, 1, 1, -1]);
    expect(Array.from(await run(grouped, [1, 2, 3, 4], [1, 4, 1, 1]))).toEqual([1, 2, 7, -1]);
  });

  it('pools: SAME that pads one side more, per-side pads, ceil_mode, count_include_pad as the spec defines them', {
    tags: ['hand-computed'],
  }, async () => {
    const at = async (op: string, a: Record<string, Attr>, opset = 13) =>
      Array.from(await run(pool(op, { kernel_shape: [2, 2], ...a }, opset), nine, [1, 1, 3, 3]));
    // SAME_UPPER pads after (pads [0, 0, 1, 1]), SAME_LOWER before ([1, 1, 0, 0]); the average counts real pixels
    expect(await at('MaxPool', { auto_pad: 'SAME_UPPER' })).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
    expect(await at('AveragePool', { auto_pad: 'SAME_LOWER' })).toEqual([1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7]);
    // one row of padding on top only: 3 rows, 2 columns
    expect(await at('MaxPool', { pads: [1, 0, 0, 0] })).toEqual([2, 3, 5, 6, 8, 9]);
    // ceil_mode: ⌈(3 − 2) / 2⌉ + 1 = 2 windows a side, the second one pixel wide
    expect(await at('MaxPool', { strides: [2, 2], ceil_mode: 1 }, 10)).toEqual([5, 6, 8, 9]);
    expect(await at('AveragePool', { strides: [2, 2], ceil_mode: 1 }, 10)).toEqual([3, 4.5, 7.5, 9]);
    // with pads 1: ⌈(3 + 2 − 2) / 2⌉ + 1 = 3, but a third window would start in the padding after the input: 2
    expect(await at('MaxPool', { strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, 10)).toEqual([1, 3, 7, 9]);
    // count_include_pad = 1: a 3×3 window padded 1 all round divides by 9 wherever it is
    const counted = await run(
      pool('AveragePool', { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 }),
      nine,
      [1, 1, 3, 3],
    );
    expectClose(
      counted,
      [12, 21, 16, 27, 45, 33, 24, 39, 28].map((s) => s / 9),
      1e-6,
      1e-6,
      'count_include_pad',
    );
    // with pads [0, 0, 1, 1] (SAME_UPPER) the last row and column count one pixel of padding: 4 pixels each
    const upper = await run(
      pool('AveragePool', { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER', count_include_pad: 1 }),
      nine,
      [1, 1, 3, 3],
    );
    expectClose(
      upper,
      [12, 16, 9, 24, 28, 15, 15, 17, 9].map((s) => s / 4),
      1e-6,
      1e-6,
      'SAME_UPPER counted',
    );
  });

  it('pool dilations, count_include_pad with ceil_mode past the pads, a bad auto_pad: typed errors', {
    tags: ['behaviour'],
  }, async () => {
    await refused(
      pool('MaxPool', { kernel_shape: [2, 2], dilations: [2, 2] }),
      /node 'maxpool' \(MaxPool\): attribute dilations/,
    );
    await refused(
      pool('AveragePool', { kernel_shape: [2, 2], dilations: [1, 2] }, 19),
      /\(AveragePool\): attribute dilations/,
    );
    await refused(
      pool('MaxPool', { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER', pads: [1, 1, 1, 1] }),
      /attribute auto_pad .*forbids both/,
    );
    await refused(pool('MaxPool', { kernel_shape: [2, 2], auto_pad: 'SAME' }), /attribute auto_pad = 'SAME'/);
    // onnxruntime counts padding only up to the pads given, not the windows ceil_mode adds past them ([1.33, 2.67, 4,
    // 7] here: 16 / 6 in the second window); layerhive's countPad would count 9
    await refused(
      pool(
        'AveragePool',
        { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], ceil_mode: 1, count_include_pad: 1 },
        10,
      ),
      /attribute count_include_pad = 1 with ceil_mode = 1 adding a window past the padding/,
    );
    const conv = (a: Record<string, Attr>, w = [1, 1, 3, 3]) =>
      bytesOf(
        graphOf(
          [node('Conv', ['x', 'w'], ['y'], a)],
          ['N', 1, 3, 3],
          [init('w', w, Array(w.reduce((p, d) => p * d)).fill(1))],
        ),
      );
    await refused(conv({ dilations: [0, 1] }), /node 'conv' \(Conv\): attribute dilations = \[0, 1\] is not two/);
    await refused(conv({ dilations: [2, 2] }), /node 'conv' \(Conv\): a \[5, 5\] window does not fit/);
    // onnxruntime refuses SAME with dilations: so does layerhive, rather than guess the padding
    await refused(conv({ dilations: [2, 2], auto_pad: 'SAME_UPPER' }, [1, 1, 2, 2]), /auto_pad = SAME_UPPER with dil/);
    await refused(conv({ group: 2 }), /\(Conv\): attribute group = 2 does not divide/);
    await refused(conv({ group: 0 }), /\(Conv\): attribute group = 0 does not divide/);
    await refused(conv({ kernel_shape: [2, 2] }), /\(Conv\): attribute kernel_shape/);
    // an attribute of another type, or one the op does not have in this opset, is never read as the default
    await refused(
      pool('MaxPool', { kernel_shape: [2, 2], strides: 2 }),
      /attribute strides has attribute type 2 and fields \[i\]/,
    );
    await refused(
      pool('MaxPool', { kernel_shape: [2, 2], storage_order: 0 }, 7),
      /storage_order is not an attribute of MaxPool in opset 7/,
    );
    await refused(
      pool('AveragePool', { kernel_shape: [2, 2], padding: [1, 1] }),
      /attribute padding is not an attribute/,
    );
    await refused(
      pool('MaxPool', { kernel_shape: [2, 2], pads: [2, 2, 2, 2] }),
      /attribute pads \[2, 2, 2, 2\] reach a whole/,
    );
    // ceil_mode that adds no partial window is the floor: accepted
    expect(Array.from(await run(pool('MaxPool', { kernel_shape: [2, 2], ceil_mode: 1 }), nine, [1, 1, 3, 3]))).toEqual([
      5, 6, 8, 9,
    ]);
  });
});

describe('Reshape, Flatten, Softmax and graph outputs by the spec', () => {
  const reshape = (target: number[], input: (number | string)[] = ['N', 2, 4], opset = 13) =>
    bytesOf(graphOf([node('Reshape', ['x', 's'], ['y'])], input, [init('s', [target.length], target, INT64)]), opset);

  it('Reshape to [-1, 4] or [4, -1] is not a flatten: refused; 0 and −1 that keep the batch are read', {
    tags: ['behaviour'],
  }, async () => {
    await refused(reshape([-1, 4]), /node 'reshape' \(Reshape\): the target shape \[-1, 4\] does not keep the batch/);
    await refused(reshape([4, -1]), /target shape \[4, -1\] does not keep the batch/);
    const general = await importOnnx(reshape([0, 4, 2]));
    expect(unnamed(general.spec.layers)).toEqual([{ type: 'reshape', shape: [4, 2] }]);
    await refused(reshape([0, -1, -1]), /not a valid shape/);
    await refused(reshape([0, 3, -1]), /does not divide/);
    await refused(reshape([0, 0, 0, 0]), /copies a dimension the input does not have/);
    await refused(reshape([0, 0, 8], ['N', 2, 4]), /does not hold/);
    const floatShape = graphOf([node('Reshape', ['x', 's'], ['y'])], ['N', 2, 4], [init('s', [2], [0, -1])]);
    await refused(bytesOf(floatShape), /reads 's' as int64, but it is float32/);
    const zero = graphOf(
      [node('Reshape', ['x', 's'], ['y'], { allowzero: 1 })],
      ['N', 2, 4],
      [init('s', [3], [0, 0, 8], INT64)],
    );
    await refused(bytesOf(zero, 14), /node 'reshape' \(Reshape\): attribute allowzero = 1/);
  });

  it('Reshape [0, −1], [−1, 8], [batch, −1] for a fixed batch flatten; [0, 0, 4] keeps the shape', {
    tags: ['hand-computed'],
  }, async () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    for (const [target, input] of [
      [
        [0, -1],
        ['N', 2, 4],
      ],
      [
        [-1, 8],
        ['N', 2, 4],
      ],
      [
        [0, 8],
        ['N', 2, 4],
      ],
      [
        [2, -1],
        [2, 2, 4],
      ],
    ] as [number[], (number | string)[]][]) {
      const m = await importOnnx(reshape(target, input));
      expect(unnamed(m.spec.layers), `[${target}]`).toEqual([{ type: 'flatten' }]);
      expect(Array.from(await run(reshape(target, input), x, [2, 2, 4]))).toEqual(x);
    }
    const same = await importOnnx(reshape([0, 0, 4]));
    expect(same.spec.layers).toEqual([]);
    expect(same.notes.join(' ')).toMatch(/Reshape node 'reshape' dropped \(it keeps the shape\)/);
  });

  const flatten = (axis: number | undefined, input: (number | string)[], opset = 13) =>
    bytesOf(graphOf([node('Flatten', ['x'], ['y'], axis === undefined ? {} : { axis })], input), opset);

  it('Flatten with axis 1 (default), −3 on 4-D, 2 after a 1-wide dimension is a flatten', {
    tags: ['hand-computed'],
  }, async () => {
    for (const [axis, input] of [
      [undefined, ['N', 3, 2, 2]],
      [-3, ['N', 3, 2, 2]],
      [1, ['N', 3, 2, 2]],
      [2, ['N', 1, 2, 6]],
      [-1, ['N', 1, 1, 12]],
    ] as [number | undefined, (number | string)[]][]) {
      const m = await importOnnx(flatten(axis, input));
      expect(unnamed(m.spec.layers), `axis ${axis}`).toEqual([{ type: 'flatten' }]);
    }
    const x = Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(await run(flatten(-3, ['N', 3, 2, 2]), x, [1, 3, 2, 2]))).toEqual(x);
  });

  it('Flatten axes that fold the batch or are out of range are typed errors naming the axis', {
    tags: ['behaviour'],
  }, async () => {
    await refused(flatten(2, ['N', 3, 2, 2]), /node 'flatten' \(Flatten\): attribute axis = 2 folds the batch/);
    await refused(flatten(0, ['N', 3, 2, 2]), /attribute axis = 0 folds the batch/);
    await refused(flatten(-4, ['N', 3, 2, 2]), /attribute axis = -4 folds the batch/);
    await refused(flatten(5, ['N', 3, 2, 2]), /attribute axis = 5 is outside/);
    await refused(flatten(-1, ['N', 3, 2, 2], 9), /attribute axis = -1 is outside the range opset 9 allows/);
  });

  const softmax = (op: string, axis: number | undefined, opset: number, input: (number | string)[] = ['N', 4]) =>
    bytesOf(graphOf([node(op, ['x'], ['y'], axis === undefined ? {} : { axis })], input), opset);

  it('a final Softmax/LogSoftmax over the classes is dropped; over another axis it is a typed error', {
    tags: ['behaviour'],
  }, async () => {
    for (const [op, axis, opset] of [
      ['Softmax', undefined, 11],
      ['Softmax', undefined, 13],
      ['Softmax', 1, 7],
      ['Softmax', -1, 13],
      ['LogSoftmax', undefined, 25],
    ] as [string, number | undefined, number][]) {
      const m = await importOnnx(softmax(op, axis, opset));
      expect(m.notes.join(' '), `${op} ${axis} opset ${opset}`).toMatch(
        new RegExp(`final ${op} '${op.toLowerCase()}'`),
      );
    }
    await refused(softmax('Softmax', 0, 13), /node 'softmax' \(Softmax\): attribute axis = 0/);
    await refused(softmax('LogSoftmax', -2, 13), /\(LogSoftmax\): attribute axis = -2/);
    await refused(softmax('Softmax', 2, 13), /attribute axis = 2 is outside/);
    await refused(softmax('Softmax', undefined, 13, ['N', 3, 4]), /attribute axis = -1 on \[N, 3, 4\]/);
  });

  it('a graph with no nodes is the identity when its output is its input (IR.md), else a typed error', {
    tags: ['behaviour'],
  }, async () => {
    const id = bytesOf(graphOf([], ['N', 3], [], 'x'));
    const m = await importOnnx(id);
    expect(unnamed(m.spec)).toEqual({ input: [3], layers: [] });
    expect(m.notes.join(' ')).toMatch(/no nodes/);
    expect(Array.from(await run(id, [1, -2, 3], [1, 3]))).toEqual([1, -2, 3]);
    await refused(bytesOf(graphOf([], ['N', 3], [], 'y')), /graph output 'y' is not computed by any node/);
    // an output in the middle: what comes after it computes nothing the graph returns
    const mid = graphOf([node('Relu', ['x'], ['r']), node('Tanh', ['r'], ['t'])], ['N', 3], [], 'r');
    const m2 = await importOnnx(bytesOf(mid));
    expect(unnamed(m2.spec.layers)).toEqual([{ type: 'relu' }]);
    expect(m2.notes.join(' ')).toMatch(/node 'tanh' dropped: nothing it computes reaches the output/);
  });

  it('opsets 7 through 25 are read; 6 and 26 are typed errors', { tags: ['behaviour'] }, async () => {
    const g = graphOf([node('Relu', ['x'], ['y'])], ['N', 3]);
    for (let opset = 7; opset <= 25; opset++) expect((await importOnnx(bytesOf(g, opset))).spec.layers).toHaveLength(1);
    await refused(bytesOf(g, 6), /opset 6 is outside 7–25/);
    await refused(bytesOf(g, 26), /opset 26 is outside 7–25/);
  });
});

describe('Gemm by the spec', () => {
  const W = [1, 2, 3, 4, 5, 6]; // [2, 3]
  const gemm = (a: Record<string, Attr>, c?: [number[], number[]], w = [2, 3]) =>
    bytesOf(
      graphOf(
        [node('Gemm', c ? ['x', 'w', 'c'] : ['x', 'w'], ['y'], a)],
        ['N', w[a.transB ? 1 : 0]],
        [init('w', w, W), ...(c ? [init('c', c[0], c[1])] : [])],
      ),
    );

  it('alpha, beta, transB and C of [], [1], [n], [1, n] and [1, 1] broadcast as the spec says', {
    tags: ['hand-computed'],
  }, async () => {
    // x = [1, −1]: x·W = [1 − 4, 2 − 5, 3 − 6] = [−3, −3, −3]
    expect(Array.from(await run(gemm({ alpha: { f: 2 } }), [1, -1], [1, 2]))).toEqual([-6, -6, -6]);
    expect(Array.from(await run(gemm({ beta: { f: 0.5 } }, [[3], [2, 4, 6]]), [1, -1], [1, 2]))).toEqual([-2, -1, 0]);
    expect(
      Array.from(
        await run(
          gemm({}, [
            [1, 3],
            [2, 4, 6],
          ]),
          [1, -1],
          [1, 2],
        ),
      ),
    ).toEqual([-1, 1, 3]);
    expect(Array.from(await run(gemm({}, [[], [10]]), [1, -1], [1, 2]))).toEqual([7, 7, 7]);
    expect(Array.from(await run(gemm({}, [[1], [10]]), [1, -1], [1, 2]))).toEqual([7, 7, 7]);
    expect(Array.from(await run(gemm({}, [[1, 1], [10]]), [1, -1], [1, 2]))).toEqual([7, 7, 7]);
    // transB: W [3, 2] read as its transpose, x = [1, 0]: the first column [1, 3, 5]
    expect(Array.from(await run(gemm({ transB: 1 }, undefined, [3, 2]), [1, 0], [1, 2]))).toEqual([1, 3, 5]);
  });

  it('transA, a C that depends on the batch, a 1-D weight: typed errors', { tags: ['behaviour'] }, async () => {
    await refused(gemm({ transA: 1 }), /node 'gemm' \(Gemm\): attribute transA = 1/);
    await refused(
      gemm({}, [
        [2, 3],
        [1, 2, 3, 4, 5, 6],
      ]),
      /C of shape \[2, 3\] does not broadcast/,
    );
    await refused(gemm({}, [[2], [1, 2]]), /C of shape \[2\] does not broadcast/);
  });
});

describe('MatMul with N-D operands', () => {
  it('[N, T, K] · W[K, M] (+ bias) is a dense layer over the last axis: = onnxruntime-node; exports back', {
    tags: ['outside'],
  }, async () => {
    const ort = await import('onnxruntime-node');
    const { exportOnnx } = await import('../../../src/index.js');
    const W = Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i) / 2),
      b = Array.from({ length: 5 }, (_, i) => i / 10 - 0.2);
    const bytes = bytesOf(
      graphOf(
        [node('MatMul', ['x', 'w'], ['xw']), node('Add', ['xw', 'b'], ['y'])],
        ['N', 3, 4],
        [init('w', [4, 5], W), init('b', [5], b)],
      ),
    );
    const m = await importOnnx(bytes);
    expect(unnamed(m.spec.layers)).toEqual([{ type: 'dense', units: 5, bias: true, lastAxis: true }]);
    const x = Array.from({ length: 2 * 12 }, (_, i) => Math.cos(i * 0.7));
    const ours = await run(bytes, x, [2, 3, 4]);
    const session = await ort.InferenceSession.create(bytes);
    const want = (await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [2, 3, 4]) })).y
      .data as Float32Array;
    expectClose(ours, want, 1e-5, 1e-6, 'MatMul [2,3,4]·[4,5] + b');
    const { model } = await loadOnnx(bytes, wasmRelaxed);
    const back = await ort.InferenceSession.create(await exportOnnx(model));
    const again = (
      await back.run({ [back.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(x), [2, 3, 4]) })
    )[back.outputNames[0]].data as Float32Array;
    expectClose(again, want, 1e-5, 1e-6, 'exported back');
    // a batched weight, and a product of two computed values, are typed refusals
    await refused(
      bytesOf(graphOf([node('MatMul', ['x', 'w'], ['y'])], ['N', 3, 4], [init('w', [3, 4, 5], [...W, ...W, ...W])])),
      /node 'matmul' \(MatMul\) has a 3-D weight/,
    );
    await refused(bytesOf(graphOf([node('MatMul', ['x', 'x'], ['y'])], ['N', 4, 4])), /reads 'x' as a constant/);
  });
});
