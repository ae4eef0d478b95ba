/**
 * Models as PyTorch exports them (test/fixtures/onnx, made by tools/onnx-fixtures/make_fixtures.py with torch 2.15 —
 * the TorchScript exporter at opsets 13 and 17 and the dynamo exporter at opset 20): ResNet basic blocks, MobileNetV2
 * inverted residuals (depthwise, ReLU6, a hard-swish), VGG (the Shape→Gather→Concat→Reshape flatten) and an MLP
 * with LayerNorm, GELU and a residual. Each imports as nested branches, predicts what PyTorch computed and what
 * onnxruntime-node computes, trains with backprop, exports back, and is explained through its branches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  explain,
  exportOnnx,
  importOnnx,
  LayerhiveError,
  loadOnnx,
  ruleFromOnnx,
  tensor,
  tidy,
  type nn,
} from '../../../src/index.js';
import { js, wasmRelaxed } from '../helpers.js';

const dir = new URL('../../fixtures/onnx/', import.meta.url);
const read = (f: string) => new Uint8Array(readFileSync(new URL(f, dir)));
interface Fixture {
  input: { shape: number[]; data: number[] };
  torch: number[];
  outputShape: number[];
  opset: number;
  ops: string[];
}
const fixture = (f: string): Fixture => JSON.parse(readFileSync(new URL(f.replace(/\.onnx$/, '.json'), dir), 'utf8'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.onnx'))
  .sort();
/** LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div: the one export layerhive refuses (see the last test). */
const refused = new Set(['mlp_ln.torchscript13.onnx']);
const readable = files.filter((f) => !refused.has(f));

async function ortRun(bytes: Uint8Array, shape: number[], data: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, shape) });
  return out[s.outputNames[0]].data as Float32Array;
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return worst;
}

const predict = (model: nn.Sequential, shape: number[], data: Float32Array) =>
  tidy(() => Float32Array.from(model.predict(tensor(data, shape, 'float32', model.backend)).dataSync()));

const kinds = (layers: readonly nn.LayerSpec[]): string[] =>
  layers.flatMap((l) => (l.type === 'branches' ? [`branches(${l.merge})`, ...l.branches.flatMap(kinds)] : [l.type]));

describe('PyTorch exports', () => {
  it('the fixtures cover the four families and both exporters', { tags: ['behaviour'] }, () => {
    for (const family of ['resnet', 'mobilenetv2', 'vgg', 'mlp_ln'])
      for (const exporter of ['torchscript', 'dynamo'])
        expect(
          readable.some((f) => f.startsWith(`${family}.${exporter}`)),
          `${family} ${exporter}`,
        ).toBe(true);
    expect(readable.length).toBeGreaterThanOrEqual(10);
  });

  it.each(readable)(
    '%s predicts what PyTorch and onnxruntime-node compute (js and wasm)',
    {
      tags: ['outside'],
    },
    async (f) => {
      const fx = fixture(f);
      const x = Float32Array.from(fx.input.data);
      const fromOrt = await ortRun(read(f), fx.input.shape, x);
      expect(maxRelErr(fromOrt, fx.torch), 'onnxruntime vs torch').toBeLessThan(1e-4);
      for (const backend of [js, wasmRelaxed]) {
        const { model } = await loadOnnx(read(f), backend);
        const y = predict(model, fx.input.shape, x);
        expect(maxRelErr(y, fx.torch), `${f} on ${backend.name} vs torch`).toBeLessThan(1e-4);
        expect(maxRelErr(y, fromOrt), `${f} on ${backend.name} vs onnxruntime`).toBeLessThan(1e-4);
      }
    },
  );

  it('residual blocks are branches: ResNet adds, MobileNetV2 adds and gates (hard-swish as x·HardSigmoid(x))', {
    tags: ['behaviour'],
  }, async () => {
    const resnet = kinds((await importOnnx(read('resnet.torchscript13-nofold.onnx'))).spec.layers);
    expect(resnet.filter((k) => k === 'branches(add)')).toHaveLength(2);
    expect(resnet).toContain('batchnorm');
    const mobile = kinds((await importOnnx(read('mobilenetv2.torchscript13.onnx'))).spec.layers);
    expect(mobile).toContain('branches(add)');
    expect(mobile).toContain('branches(mul)');
    expect(mobile).toContain('clip');
    const vgg = await importOnnx(read('vgg.torchscript13.onnx'));
    expect(kinds(vgg.spec.layers)).not.toContain('reshape'); // the Shape→Gather→Concat→Reshape subgraph is a flatten
    expect(kinds(vgg.spec.layers)).toContain('flatten');
    const mlp = await importOnnx(read('mlp_ln.torchscript17.onnx'));
    expect(kinds(mlp.spec.layers)).toEqual(expect.arrayContaining(['layernorm', 'gelu', 'branches(add)']));
    expect(mlp.notes.join(' ')).toMatch(/compute GELU \(erf form\)/);
    // layers keep their node names: PyTorch's module paths
    expect(mlp.spec.layers.map((l) => l.name)).toContain('/ln_in/LayerNormalization');
  });

  it.each(readable)(
    '%s exports back and onnxruntime-node agrees with layerhive',
    {
      tags: ['outside'],
    },
    async (f) => {
      const fx = fixture(f);
      const x = Float32Array.from(fx.input.data);
      const { model } = await loadOnnx(read(f), wasmRelaxed);
      const back = await ortRun(await exportOnnx(model), fx.input.shape, x);
      expect(maxRelErr(back, predict(model, fx.input.shape, x))).toBeLessThan(1e-5);
    },
  );

  it.each(['resnet.torchscript13-nofold.onnx', 'mobilenetv2.dynamo.onnx', 'mlp_ln.dynamo.onnx'])(
    '%s fine-tunes with backprop through its branches: the loss on a batch falls',
    { tags: ['behaviour'] },
    async (f) => {
      const fx = fixture(f);
      const { rule } = await ruleFromOnnx(read(f), wasmRelaxed, {
        rule: 'backprop',
        model: 'mlp',
        seed: 1,
        optimizer: { type: 'adam', lr: 0.003 },
      });
      const x = tensor(Float32Array.from(fx.input.data), fx.input.shape, 'float32', wasmRelaxed);
      const y = tensor(Int32Array.of(3, 1), [2], 'int32', wasmRelaxed);
      const loss = () => tidy(() => rule.trainStep(x, y).loss.dataSync()[0]);
      const first = loss();
      let last = first;
      for (let s = 0; s < 15; s++) last = loss();
      expect(last, `${f}: ${first} → ${last}`).toBeLessThan(0.5 * first);
      rule.dispose();
    },
  );

  it('gradients through the branches equal central differences of the logit (ResNet, MobileNetV2, LN-MLP)', {
    tags: ['invariant'],
  }, async () => {
    for (const f of [
      'resnet.torchscript13-nofold.onnx',
      'mobilenetv2.torchscript13.onnx',
      'mlp_ln.torchscript17.onnx',
    ]) {
      const fx = fixture(f);
      const { model } = await loadOnnx(read(f), js);
      const shape = [1, ...fx.input.shape.slice(1)];
      const x = Float32Array.from(
        fx.input.data.slice(
          0,
          shape.reduce((p, d) => p * d, 1),
        ),
      );
      const a = await explain(model, x, { method: 'input-x-gradient', target: 4 });
      const logit = (v: Float32Array) => predict(model, shape, v)[4];
      // a few inputs; central differences of float32 logits, so the tolerance carries an absolute part
      const h = 1e-2;
      for (const i of new Set([0, 7, 100, Math.floor(x.length / 2), x.length - 1].filter((k) => k < x.length))) {
        const up = Float32Array.from(x),
          down = Float32Array.from(x);
        up[i] += h;
        down[i] -= h;
        const fd = (x[i] * (logit(up) - logit(down))) / (2 * h); // input × gradient
        expect(Math.abs(a.values[i] - fd), `${f} input ${i}: ${a.values[i]} vs ${fd}`).toBeLessThan(
          2e-2 * (Math.abs(fd) + 0.05),
        );
      }
    }
  });

  it('Grad-CAM addresses a residual block by its ONNX node name', { tags: ['invariant'] }, async () => {
    const f = 'resnet.torchscript13-nofold.onnx';
    const fx = fixture(f);
    const { model } = await loadOnnx(read(f), wasmRelaxed);
    const names = model.spec.layers.map((l) => l.name ?? '');
    const at = model.spec.layers.findIndex((l) => l.type === 'branches');
    expect(at).toBeGreaterThan(0);
    const x = Float32Array.from(fx.input.data.slice(0, 3 * 16 * 16));
    const byName = await explain(model, x, { method: 'grad-cam', target: 2, layer: names[at] });
    const byIndex = await explain(model, x, { method: 'grad-cam', target: 2, layer: at });
    expect(Array.from(byName.values)).toEqual(Array.from(byIndex.values));
    expect(byName.values.some((v) => v !== 0)).toBe(true);
  });

  it('LayerNorm written out before opset 17 is a typed refusal naming the node, with the way out', {
    tags: ['behaviour'],
  }, async () => {
    const e = await importOnnx(read('mlp_ln.torchscript13.onnx')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LayerhiveError);
    expect((e as LayerhiveError).code).toBe('DATA_INVALID');
    expect((e as LayerhiveError).message).toMatch(/node '\/ln_in\/ReduceMean' \(ReduceMean\).*opset 17/);
  });
});
