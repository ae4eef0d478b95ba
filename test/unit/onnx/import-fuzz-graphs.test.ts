// @module-tag behaviour
/**
 * Hostile graphs: seeded structural mutations of real PyTorch exports (test/fixtures/onnx) — inputs rewired to other
 * values, nodes removed, duplicated or moved before what they read, ops swapped, attributes, constants and initializer
 * sizes changed — give a model that predicts, or a typed error; never another exception, never a hang, and the heap
 * stays bounded.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LayerhiveError, loadOnnx, Rng, tensor, tidy } from '../../../src/index.js';
import { wasmRelaxed } from '../helpers.js';
import { onnx } from './graphs.js';

const dir = new URL('../../fixtures/onnx/', import.meta.url);
const fixtures = [
  'resnet.torchscript13-nofold',
  'mobilenetv2.torchscript13',
  'mobilenetv2.dynamo',
  'vgg.torchscript13',
  'mlp_ln.torchscript17',
].map((f) => ({
  bytes: new Uint8Array(readFileSync(new URL(`${f}.onnx`, dir))),
  shape: JSON.parse(readFileSync(new URL(`${f}.json`, dir), 'utf8')).input.shape.slice(1) as number[],
}));

const ops = [
  'Add',
  'Mul',
  'Concat',
  'Conv',
  'Gemm',
  'MatMul',
  'Relu',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Reshape',
  'Flatten',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Transpose',
  'Pad',
  'GlobalAveragePool',
  'ReduceMean',
  'LayerNormalization',
  'Gelu',
  'Erf',
  'Div',
  'Constant',
  'BatchNormalization',
  'Softmax',
  'LSTM',
];

describe('hostile graphs', () => {
  it('600 seeded mutations of PyTorch exports: a model that predicts, or a typed error; fast; bounded heap', {
    timeout: 240_000,
  }, async () => {
    const rng = new Rng(2026);
    const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)];
    const counts = { loaded: 0, refused: 0 };
    let slowest = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let k = 0; k < 600; k++) {
      const fx = fixtures[k % fixtures.length];
      const m = onnx.ModelProto.decode(fx.bytes);
      const g = m.graph!;
      const nodes = g.node!;
      const values = [
        ...nodes.flatMap((n) => n.output ?? []),
        ...(g.initializer ?? []).map((t) => t.name ?? ''),
        g.input![0].name ?? '',
        '',
      ];
      const nd = pick(nodes);
      const what = k % 11;
      if (what === 0 && nd.input?.length) nd.input.splice(rng.int(nd.input.length), 1);
      else if (what === 1 && nd.attribute?.length) {
        const a = pick(nd.attribute);
        if (a.ints?.length) a.ints = a.ints.map(() => rng.int(9) - 3);
        else if (a.f !== undefined && a.f !== null) a.f = pick([0, -1, 1e30, Number.NaN, 0.5]);
        else a.i = rng.int(9) - 3;
      } else if (what === 2 && nd.input?.length) nd.input[rng.int(nd.input.length)] = pick(values);
      else if (what === 3) nd.opType = pick(ops);
      else if (what === 4) nodes.splice(rng.int(nodes.length), 1);
      else if (what === 5) g.output![0].name = pick(values);
      else if (what === 6 && g.initializer?.length) {
        const t = pick(g.initializer);
        t.dims = (t.dims ?? [1]).map(() => pick([0, 1, 3, 16384, 2 ** 31, -1]));
      } else if (what === 7 && g.initializer?.length) {
        const t = pick(g.initializer);
        if (t.rawData?.length) t.rawData = t.rawData.subarray(0, rng.int(t.rawData.length + 1));
      } else if (what === 8) {
        // a Constant's value, or the int64 shape an exporter feeds a Reshape
        const c = nodes.filter((n) => n.opType === 'Constant');
        const t = c.length ? pick(c).attribute?.find((a) => a.name === 'value')?.t : pick(g.initializer ?? []);
        if (t?.rawData?.length) {
          const raw = Uint8Array.from(t.rawData);
          raw[rng.int(raw.length)] ^= 1 << rng.int(8);
          t.rawData = raw;
        }
      } else if (what === 9) nodes.splice(rng.int(nodes.length + 1), 0, onnx.NodeProto.create(nd));
      else {
        // a node moved before the nodes it reads (the spec wants them sorted)
        const i = rng.int(nodes.length);
        const [moved] = nodes.splice(i, 1);
        nodes.splice(rng.int(i + 1), 0, moved);
      }
      const t0 = performance.now();
      try {
        const { model } = await loadOnnx(onnx.ModelProto.encode(m).finish(), wasmRelaxed);
        const x = tensor(
          Float32Array.from({ length: fx.shape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i)),
          [1, ...fx.shape],
          'float32',
          wasmRelaxed,
        );
        try {
          tidy(() => model.predict(x).dataSync());
        } finally {
          x.dispose();
          for (const t of [...model.namedParams().values(), ...model.namedBuffers().values()]) t.dispose();
        }
        counts.loaded++;
      } catch (e) {
        expect(e, `mutation ${k} (${what}): ${String(e)}`).toBeInstanceOf(LayerhiveError);
        counts.refused++;
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(counts.loaded + counts.refused).toBe(600);
    expect(counts.refused).toBeGreaterThan(150);
    expect(counts.loaded).toBeGreaterThan(50);
    // no mutation may allocate what its file does not hold, nor spin: each is quick and the heap stays small
    expect(slowest).toBeLessThan(5_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 2 ** 20);
    console.log(
      `fuzz: ${counts.loaded} loaded and predicted, ${counts.refused} typed refusals, slowest ${slowest.toFixed(0)} ms`,
    );
  });
});
