/**
 * The contract an exported model carries in `metadata_props` (src/onnx/metadata.ts): what it holds for each kind of
 * export, `readContract` returning it typed, the options that choose it, and damaged contracts refused by name.
 */
import { unnamed } from './graphs.js';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  createRule,
  exportOnnx,
  importOnnx,
  LayerhiveError,
  loadOnnx,
  MNIST_NORMALIZATION,
  nn,
  normalizePixels,
  readContract,
  Rng,
  tensor,
  tidy,
  UNIT_SCALE,
  type ModelContract,
  type RuleConfig,
} from '../../../src/index.js';
import { onnx } from '../../../src/onnx/proto.js';
import { contractOf, normalizationHead } from '../../../src/onnx/metadata.js';
import { LAYERHIVE_VERSION } from '../../../src/onnx/version.js';
import { wasmRelaxed } from '../helpers.js';

const packageVersion = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;
const tpsgdConfig: RuleConfig = {
  rule: 'tpsgd',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 1,
  streams: 'named',
  optimizer: { type: 'adam', lr: 1e-3 },
};
const digits = Array.from({ length: 10 }, (_, i) => String(i));
const props = (bytes: Uint8Array) =>
  Object.fromEntries((onnx.ModelProto.decode(bytes).metadataProps ?? []).map((p) => [p.key, p.value]));
const headOps = (bytes: Uint8Array, n: number) =>
  (onnx.ModelProto.decode(bytes).graph?.node ?? []).slice(0, n).map((x) => x.opType);

describe('the exported contract', { tags: ['behaviour'] }, () => {
  it("a rule's export takes pixels in [0, 1] (Sub, Div head), says so; readContract round-trips it", async () => {
    const rule = createRule(tpsgdConfig, wasmRelaxed);
    const bytes = await exportOnnx(rule);
    rule.dispose();
    const expected: ModelContract = {
      format: 1,
      layerhiveVersion: packageVersion,
      rule: 'tpsgd',
      input: {
        name: 'input',
        layout: 'NCHW',
        kind: 'pixels',
        range: [0, 1],
        normalization: { mean: 0.1307, std: 0.3081, appliedBy: 'graph' },
      },
      output: { name: 'logits', classNames: digits },
      noise: null,
    };
    expect(await readContract(bytes)).toEqual(expected);
    expect(contractOf(onnx.ModelProto.decode(bytes))).toEqual(expected);
    // the keys as any ONNX tool shows them
    expect(props(bytes)).toEqual({
      layerhive_contract: '1',
      layerhive_version: packageVersion,
      training_rule: 'tpsgd',
      input_layout: 'NCHW',
      input_kind: 'pixels',
      input_range: '[0,1]',
      input_normalization: '{"mean":0.1307,"std":0.3081,"applied_by":"graph"}',
      class_names: JSON.stringify(digits),
    });
    const m = onnx.ModelProto.decode(bytes);
    expect(m.producerVersion).toBe(packageVersion);
    expect(m.graph?.input?.[0].docString).toMatch(/pixels v \/ 255 in \[0, 1\]/);
    expect(headOps(bytes, 4)).toEqual(['Sub', 'Div', 'Flatten', 'Gemm']);
    expect(normalizationHead(m)).toEqual({ nodes: 2, input: 'normalized_input' });
  });

  it("input 'normalized' keeps the previous graph; the caller normalises (range in normalised units)", async () => {
    const rule = createRule(tpsgdConfig, wasmRelaxed);
    const bytes = await exportOnnx(rule, { input: 'normalized', classNames: 'abcdefghij'.split('') });
    rule.dispose();
    const c = (await readContract(bytes))!;
    expect(c.input).toEqual({
      name: 'input',
      layout: 'NCHW',
      kind: 'normalized',
      range: [-0.1307 / 0.3081, 0.8693 / 0.3081],
      normalization: { ...MNIST_NORMALIZATION, appliedBy: 'caller' },
    });
    expect(c.output.classNames).toEqual('abcdefghij'.split(''));
    expect(headOps(bytes, 2)).toEqual(['Flatten', 'Gemm']);
    expect(normalizationHead(onnx.ModelProto.decode(bytes))).toEqual({ nodes: 0, input: 'input' });
  });

  it('UNIT_SCALE needs no head nodes; a bare Sequential is exported as it takes its input (unknown)', async () => {
    const rule = createRule(tpsgdConfig, wasmRelaxed);
    const unit = await exportOnnx(rule, { normalization: UNIT_SCALE });
    expect((await readContract(unit))!.input).toMatchObject({ kind: 'pixels', range: [0, 1] });
    expect(headOps(unit, 1)).toEqual(['Flatten']);
    expect(normalizationHead(onnx.ModelProto.decode(unit)).nodes).toBe(0);
    // a truncated network (a FrozenStage feature extractor) keeps taking layerhive's normalised batches
    const features = await readContract(await exportOnnx(rule, { upTo: 3 }));
    expect(features!.input.kind).toBe('normalized');
    expect(features!.output.classNames).toBeNull();
    rule.dispose();
    const seq = new nn.Sequential(
      { input: [4], layers: [{ type: 'dense', units: 3 }] },
      { backend: wasmRelaxed, rng: new Rng(1) },
    );
    expect(await readContract(await exportOnnx(seq))).toMatchObject({
      rule: null,
      input: { layout: 'NC', kind: 'unknown', range: null, normalization: null },
      output: { classNames: ['0', '1', '2'] },
    });
    await expect(exportOnnx(seq, { input: 'pixels' })).rejects.toThrow(/input 'pixels' needs the normalisation/);
    await expect(exportOnnx(seq, { classNames: ['a'] })).rejects.toThrow(/1 class names for 3 classes/);
    await expect(exportOnnx(seq, { normalization: { mean: 0, std: 0 } })).rejects.toThrow(/std 0 is not usable/);
  });

  it("NoProp-DT's contract explains its noise input and carries the z_0 row layerhive's predict uses", async () => {
    const rule = createRule({ ...tpsgdConfig, rule: 'noprop-dt', noprop: { T: 2 } }, wasmRelaxed);
    const c = (await readContract(await exportOnnx(rule)))!;
    const { z } = (rule as unknown as { initialNoise(n: number): { z: { dataSync(): Float32Array } } }).initialNoise(1);
    expect(c.rule).toBe('noprop-dt');
    expect(c.noise!.name).toBe('noise');
    expect(c.noise!.meaning).toMatch(/z_0 of the denoising chain, \[N, 10\]/);
    expect(c.noise!.z0).toEqual(Array.from(z.dataSync()));
    rule.dispose();
  });

  it('a file without a contract reads as null; a damaged one is a DATA_INVALID error naming the key', async () => {
    const rule = createRule(tpsgdConfig, wasmRelaxed);
    const bytes = await exportOnnx(rule);
    rule.dispose();
    const m = onnx.ModelProto.decode(bytes);
    const without = onnx.ModelProto.encode({ ...m, metadataProps: [] }).finish();
    expect(await readContract(without)).toBeNull();
    const edited = (key: string, value: string) =>
      onnx.ModelProto.create({
        ...m,
        metadataProps: m.metadataProps.map((p) => (p.key === key ? { key, value } : p)),
      });
    for (const [key, value, message] of [
      ['input_range', '[1, 0]', /'input_range' is "\[1, 0\]", not \[low, high\]/],
      ['input_normalization', '{"mean":0,"std":-1,"applied_by":"graph"}', /'input_normalization'/],
      ['class_names', 'zero,one', /'class_names' is "zero,one", not JSON/],
      ['input_kind', 'bytes', /'input_kind' is "bytes"/],
      ['layerhive_contract', '2', /contract is format "2"; this layerhive reads format 1/],
    ] as const) {
      const e = await readContract(onnx.ModelProto.encode(edited(key, value)).finish()).catch((x: unknown) => x);
      expect(e, key).toBeInstanceOf(LayerhiveError);
      expect((e as LayerhiveError).code).toBe('DATA_INVALID');
      expect((e as Error).message).toMatch(message);
    }
    // a contract promising head nodes that the graph lacks is refused, not trusted
    const headless = onnx.ModelProto.create({ ...m, graph: { ...m.graph, node: (m.graph?.node ?? []).slice(2) } });
    expect(() => normalizationHead(headless)).toThrow(/first nodes are not Sub\(input, mean\)/);
    await expect(readContract(Uint8Array.of(1, 2, 3))).rejects.toThrow(/not an ONNX model/);
  });

  it("the version written is package.json's", () => {
    expect(LAYERHIVE_VERSION).toBe(packageVersion);
  });
});

describe('importing an export that normalises its pixels', { tags: ['invariant'] }, () => {
  it("starts the network after the Sub/Div head: the imported model gives the rule's logits on normalised input", {
    timeout: 30_000,
  }, async () => {
    const rule = createRule(tpsgdConfig, wasmRelaxed);
    const bytes = await exportOnnx(rule);
    const imported = await importOnnx(bytes);
    expect(imported.notes.join(' ')).toMatch(/first 2 nodes normalise its pixels/);
    expect(unnamed(imported.spec.layers[0])).toEqual({ type: 'flatten' }); // no layer stands for the head
    const { model } = await loadOnnx(bytes, wasmRelaxed);
    const pixels = Uint8Array.from({ length: 2 * 784 }, (_, i) => (i * 37) % 256);
    const x = normalizePixels(pixels, MNIST_NORMALIZATION);
    const want = tidy(() => rule.predict(tensor(x, [2, 1, 28, 28], 'float32', wasmRelaxed)).dataSync());
    const got = tidy(() => model.predict(tensor(x, [2, 1, 28, 28], 'float32', wasmRelaxed)).dataSync());
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-5);
    rule.dispose();
  });
});
