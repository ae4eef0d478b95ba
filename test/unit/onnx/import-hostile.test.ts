/**
 * Hostile ONNX files: wrong input counts, weights whose declared size is not in the file (checked before anything is
 * allocated, with a cap the caller can raise), outputs nothing produces; seeded structural mutations of valid
 * models load or fail with a LayerhiveError, never another exception.
 */
import { describe, expect, it } from 'vitest';
import { exportOnnx, importOnnx, LayerhiveError, loadOnnx, nn, Rng } from '../../../src/index.js';
import { wasmRelaxed } from '../helpers.js';
import { bytesOf, FLOAT, graphOf, INT64, init, node, onnx, unnamed } from './graphs.js';

const typed = async (p: Promise<unknown>, pattern: RegExp) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'an error').toBeInstanceOf(LayerhiveError);
  expect((e as LayerhiveError).message).toMatch(pattern);
};

describe('hostile ONNX files', { tags: ['behaviour'] }, () => {
  it('every node’s input count is checked: BatchNormalization with 3 inputs, Gemm with 1, Relu with 2', async () => {
    const c = [1, 1];
    const bn = graphOf(
      [node('BatchNormalization', ['x', 's', 'b'], ['y'])],
      ['N', 2],
      [init('s', [2], c), init('b', [2], c)],
    );
    await typed(importOnnx(bytesOf(bn)), /node 'batchnormalization' \(BatchNormalization\) has 3 inputs; .* takes 5/);
    await typed(
      importOnnx(bytesOf(graphOf([node('Gemm', ['x'], ['y'])], ['N', 2]))),
      /\(Gemm\) has 1 inputs; Gemm takes 2–3/,
    );
    await typed(importOnnx(bytesOf(graphOf([node('Relu', ['x', 'x'], ['y'])], ['N', 2]))), /\(Relu\) has 2 inputs/);
    await typed(importOnnx(bytesOf(graphOf([node('Relu', ['x'], [])], ['N', 2]))), /\(Relu\) has no output/);
    // a weight input that is not a weight, and a BatchNormalization whose statistics do not fit the channels
    await typed(importOnnx(bytesOf(graphOf([node('MatMul', ['x', 'nope'], ['y'])], ['N', 2]))), /reads 'nope'/);
    const short = graphOf(
      [node('BatchNormalization', ['x', 's', 's', 's', 'v'], ['y'])],
      ['N', 2],
      [init('s', [2], c), init('v', [1], [1])],
    );
    await typed(importOnnx(bytesOf(short)), /var has 1 values for 2 channels/);
    // a weight of the wrong element type (an int64 matrix) is not read as floats
    const int64W = graphOf([node('MatMul', ['x', 'w'], ['y'])], ['N', 2], [init('w', [2, 2], [1, 2, 3, 4], INT64)]);
    await typed(importOnnx(bytesOf(int64W)), /node 'matmul' \(MatMul\) reads 'w' as float32, but it is int64/);
  });

  it('a 1 kB file declaring a [16384, 16384] initializer with no data fails at once, before allocating', async () => {
    const g = graphOf(
      [node('MatMul', ['x', 'w'], ['y'])],
      ['N', 16384],
      [onnx.TensorProto.create({ name: 'w', dims: [16384, 16384], dataType: FLOAT })],
    );
    const bytes = bytesOf(g);
    expect(bytes.length).toBeLessThan(1024);
    const before = process.memoryUsage().rss;
    await typed(importOnnx(bytes), /initializer 'w' with dims \[16384, 16384\] .*over the cap of 67108864/);
    // with the cap raised the declared size is still checked against the bytes present
    await typed(
      importOnnx(bytes, { maxValues: 2 ** 30 }),
      /'w' declares dims \[16384, 16384\] \(268435456 values\) but the file holds 0/,
    );
    expect(process.memoryUsage().rss - before, 'no gigabyte allocated').toBeLessThan(2 ** 28);
  });

  it('the cap counts every initializer, and a caller can raise it', async () => {
    const g = graphOf([node('MatMul', ['x', 'w'], ['y'])], ['N', 4], [init('w', [4, 3], Array(12).fill(0.5))]);
    await typed(importOnnx(bytesOf(g), { maxValues: 11 }), /over the cap of 11 — .*maxValues/);
    expect(unnamed((await importOnnx(bytesOf(g), { maxValues: 12 })).spec.layers)).toEqual([
      { type: 'dense', units: 3, bias: false },
    ]);
  });

  it('raw data shorter or longer than the dims, negative dims, external data, other dtypes: typed errors', async () => {
    const t = (props: object) =>
      bytesOf(
        graphOf([node('MatMul', ['x', 'w'], ['y'])], ['N', 4], [onnx.TensorProto.create({ name: 'w', ...props })]),
      );
    await typed(importOnnx(t({ dims: [4, 3], dataType: FLOAT, rawData: new Uint8Array(40) })), /holds 10/);
    await typed(importOnnx(t({ dims: [4, 3], dataType: FLOAT, rawData: new Uint8Array(52) })), /holds 13/);
    await typed(importOnnx(t({ dims: [4, 3], dataType: FLOAT, rawData: new Uint8Array(49) })), /holds 12.25/);
    await typed(importOnnx(t({ dims: [4, 3], dataType: FLOAT, floatData: [1, 2] })), /holds 2/);
    await typed(importOnnx(t({ dims: [4, -3], dataType: FLOAT })), /has dims \[4, -3\]/);
    await typed(
      importOnnx(
        t({ dims: [4, 3], dataType: FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }),
      ),
      /external file/,
    );
    await typed(
      importOnnx(t({ dims: [4, 3], dataType: onnx.TensorProto.DataType.DOUBLE, doubleData: Array(12).fill(1) })),
      /data type 11/,
    );
    // and raw float32 data is read little-endian
    const raw = new Uint8Array(new Float32Array(Array.from({ length: 12 }, (_, i) => i)).buffer);
    const m = await importOnnx(t({ dims: [4, 3], dataType: FLOAT, rawData: raw }));
    expect(Array.from(m.params['0.weight'])).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('every graph output must be produced, and only one', async () => {
    await typed(
      importOnnx(bytesOf(graphOf([node('Relu', ['x'], ['r'])], ['N', 2], [], 'y'))),
      /graph output 'y' is not/,
    );
    const two = graphOf([node('Relu', ['x'], ['y'])], ['N', 2]);
    two.output.push(onnx.ValueInfoProto.create({ name: 'x' }));
    await typed(importOnnx(bytesOf(two)), /2 outputs/);
  });

  it('fuzz: 400 seeded structural mutations of valid models are a result or a typed error', async () => {
    const models = [
      new nn.Sequential(
        {
          input: [2, 6, 6],
          layers: [
            { type: 'conv2d', filters: 3, kernel: 3, pad: 1 },
            { type: 'batchnorm' },
            { type: 'relu' },
            { type: 'maxpool2d', kernel: 2 },
            { type: 'avgpool2d', kernel: 3, stride: 1, pad: 1 },
            { type: 'flatten' },
            { type: 'dense', units: 5 },
            { type: 'sigmoid' },
            { type: 'dense', units: 3 },
          ],
        },
        { backend: wasmRelaxed, rng: new Rng(9) },
      ),
    ];
    const goods = await Promise.all(models.map((m) => exportOnnx(m)));
    const rng = new Rng(1234);
    const ops = [
      'Gemm',
      'MatMul',
      'Conv',
      'MaxPool',
      'AveragePool',
      'Flatten',
      'Reshape',
      'Relu',
      'BatchNormalization',
    ];
    const pick = <T>(a: T[]) => a[rng.int(a.length)];
    let errors = 0,
      loaded = 0;
    for (let k = 0; k < 400; k++) {
      const m = onnx.ModelProto.decode(goods[k % goods.length]);
      const g = m.graph!;
      const nodes = g.node!;
      const what = k % 9;
      const nd = pick(nodes);
      if (what === 0) nd.input!.splice(rng.int(nd.input!.length), 1);
      else if (what === 1 && nd.attribute?.length) {
        const a = pick(nd.attribute);
        if (a.ints?.length) a.ints = a.ints.map(() => rng.int(7) - 2);
        else a.i = rng.int(7) - 2;
      } else if (what === 2) {
        const t = pick(g.initializer!);
        t.dims = t.dims!.map(() => pick([0, 1, 3, 16384, 2 ** 31, -1]));
      } else if (what === 3) nd.opType = pick(ops);
      else if (what === 4) m.opsetImport![0].version = rng.int(30);
      else if (what === 5) nodes.splice(rng.int(nodes.length), 1);
      else if (what === 6) g.output![0].name = pick([...nodes.map((n) => n.output![0]), 'x', '']);
      else if (what === 7) g.input![0].type!.tensorType!.shape!.dim![1 + rng.int(3)] = { dimValue: rng.int(9) - 1 };
      else {
        const t = pick(g.initializer!);
        t.rawData = t.rawData!.subarray(0, rng.int(t.rawData!.length + 1));
      }
      try {
        const r = await loadOnnx(onnx.ModelProto.encode(m).finish(), wasmRelaxed);
        loaded++;
        for (const t of [...r.model.namedParams().values(), ...r.model.namedBuffers().values()]) t.dispose();
      } catch (e) {
        expect(e, `mutation ${k} (${what}): ${String(e)}`).toBeInstanceOf(LayerhiveError);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(200);
    expect(errors + loaded).toBe(400);
  });
});
