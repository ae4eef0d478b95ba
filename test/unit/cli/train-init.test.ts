/**
 * `layerhive train --init model.onnx` from source (runTrain, in-process): a small seeded CNN exported with exportOnnx
 * is fine-tuned with --freeze and --head-only on 64 MNIST images; the frozen layers keep the file's weights (and
 * batch-norm statistics) bit for bit, the rest change, and the checkpoint evaluates, exports and explains like any
 * other. NoProp-DT learns as a head on the frozen layers' features. What does not fit is a typed error before training.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRule, type RuleConfig, tensor, tidy } from '../../../src/index.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { loadOnnx } from '../../../src/onnx/import.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import type { Checkpoint } from '../../../src/store/checkpoint.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { runEval, runExport, runTrain, type TrainArgs } from '../../../src/cli/train.js';
import { runExplain } from '../../../src/cli/explain.js';
import { writeDigits } from '../data/image-files.js';
import { js } from '../helpers.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-train-init/', import.meta.url));
const file = `${dir}cnn.onnx`;

/** conv (0), batch norm (1), relu, max-pool, flatten, dense (5): the last layer with parameters is 5. */
const layers: LayerSpec[] = [
  { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
  { type: 'batchnorm' },
  { type: 'relu' },
  { type: 'maxpool2d', kernel: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 10 },
];

/** A seeded backprop rule on `layers` with a few steps on random batches (so its batch-norm statistics are its own). */
async function writeModel(path: string, input = [1, 28, 28], classes = 10): Promise<void> {
  const config: RuleConfig = {
    rule: 'backprop',
    model: 'mlp',
    layers: layers.slice(0, -1).concat({ type: 'dense', units: classes }),
    inputShape: input,
    classes,
    seed: 5,
    optimizer: { type: 'adam', lr: 1e-2 },
  };
  const rule = createRule(config, js);
  const n = input.reduce((p, d) => p * d, 1);
  for (let s = 0; s < 3; s++)
    tidy(() => {
      const x = tensor(
        Float32Array.from({ length: 8 * n }, (_, i) => Math.sin(i * 0.37 + s)),
        [8, ...input],
        'float32',
        js,
      );
      const y = tensor(
        Int32Array.from({ length: 8 }, (_, i) => (i + s) % classes),
        [8],
        'int32',
        js,
      );
      rule.trainStep(x, y);
    });
  writeFileSync(path, await exportOnnx(rule));
  rule.dispose();
}

const args = (o: Partial<TrainArgs>): TrainArgs => ({
  rule: 'backprop',
  model: 'mlp',
  data: 'mnist',
  epochs: 1,
  batch: 32,
  lr: 0.01,
  seed: 0,
  keep: 3,
  quantize: false,
  limit: 64,
  backend: 'wasm',
  optimizer: 'adam',
  progress: false,
  schedule: 'constant',
  localLoss: 'l2',
  blocks: 2,
  embedding: 'onehot',
  weighting: 'uniform',
  syncEvery: 50,
  microBatches: 4,
  workerUrl: new URL('file:///nowhere/stage.worker.js'),
  init: file,
  ...o,
});

/** Runs `fn` with console.log silenced; returns what it logged. */
async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; log: string }> {
  const log = console.log,
    lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    return { value: await fn(), log: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

/** Every tensor of the file's network, by model name (parameters and batch-norm statistics). */
async function fileTensors(path: string): Promise<Map<string, Float32Array>> {
  const { model } = await loadOnnx(new Uint8Array(readFileSync(path)), js);
  const out = new Map<string, Float32Array>();
  for (const [k, t] of [...model.namedParams(), ...model.namedBuffers()])
    out.set(k, Float32Array.from(t.dataSync() as Float32Array));
  return out;
}

/** Every tensor a checkpoint holds, by name: its groups' parameters and statistics, and its buffers. */
function checkpointTensors(ck: Checkpoint): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const g of Object.values(ck.groups)) for (const [k, t] of Object.entries(g.tensors)) out.set(k, t.data);
  for (const [k, t] of Object.entries(ck.buffers)) out.set(k, t.data);
  return out;
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const same = (a: Float32Array | undefined, b: Float32Array | undefined) => !!a && !!b && bytesOf(a).equals(bytesOf(b));

async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { store, name } = FsCheckpointStore.at(path);
  return store.load(name);
}

let original: Map<string, Float32Array>;
beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await writeModel(file);
  original = await fileTensors(file);
  // the import keeps the layer indices this test names (a trailing Softmax or a fused node would shift them)
  expect([...original.keys()]).toEqual([
    '0.weight',
    '0.bias',
    '1.gamma',
    '1.beta',
    '5.weight',
    '5.bias',
    '1.runningMean',
    '1.runningVar',
  ]);
});

describe('train --init model.onnx', () => {
  it('--freeze 1 keeps layer 0 as the file has it and trains the rest; the checkpoint evaluates, exports, explains', {
    tags: ['invariant'],
  }, async () => {
    const out = `${dir}freeze1`;
    const { log } = await quiet(() => runTrain(args({ freeze: 1, out })));
    expect(log).toMatch(/backprop fine-tunes the 6 layers of .*cnn\.onnx with layer 0 frozen/);
    const ck = await loadCheckpoint(out);
    expect(ck.config.frozenLayers).toBe(1);
    expect(ck.config.layers).toHaveLength(6);
    const now = checkpointTensors(ck);
    for (const k of ['0.weight', '0.bias']) expect(same(now.get(k), original.get(k)), k).toBe(true);
    // batch norm (layer 1) trains: its parameters and its running statistics move
    for (const k of ['1.gamma', '1.beta', '1.runningMean', '1.runningVar', '5.weight', '5.bias'])
      expect(same(now.get(k), original.get(k)), k).toBe(false);
    const { value: acc } = await quiet(() => runEval({ model: out, data: 'mnist', backend: 'wasm', json: true }));
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    await quiet(() => runExport({ model: out, out: `${dir}freeze1.onnx` }));
    const exported = await fileTensors(`${dir}freeze1.onnx`);
    expect(same(exported.get('0.weight'), original.get('0.weight'))).toBe(true);
    expect(same(exported.get('5.weight'), now.get('5.weight'))).toBe(true);
    await quiet(() =>
      runExplain({
        model: out,
        data: 'mnist',
        index: 0,
        method: 'grad-cam',
        out: `${dir}freeze1-explain`,
        backend: 'wasm',
      }),
    );
    const json = JSON.parse(readFileSync(`${dir}freeze1-explain/attributions.json`, 'utf8'));
    expect(json.methods['grad-cam'].values).toHaveLength(784);
    // and it resumes like any other run: a second epoch, layer 0 still the file's
    await quiet(() => runTrain(args({ init: undefined, resume: out, epochs: 2 })));
    const resumed = await loadCheckpoint(out);
    expect((resumed.meta.run as { epochsDone: number }).epochsDone).toBe(2);
    expect(same(checkpointTensors(resumed).get('0.weight'), original.get('0.weight'))).toBe(true);
    expect(same(checkpointTensors(resumed).get('5.weight'), now.get('5.weight'))).toBe(false);
  });

  it('--freeze 2 over two stage workers (dist/stage.worker.js) keeps the frozen layers as the file has them', {
    tags: ['invariant'],
  }, async () => {
    const out = `${dir}freeze2-workers`;
    await quiet(() =>
      runTrain(
        args({ freeze: 2, out, workers: 2, workerUrl: new URL('../../../dist/stage.worker.js', import.meta.url) }),
      ),
    );
    const ck = await loadCheckpoint(out);
    expect(ck.config.frozenLayers).toBe(2);
    const now = checkpointTensors(ck);
    for (const k of ['0.weight', '0.bias', '1.gamma', '1.beta', '1.runningMean', '1.runningVar'])
      expect(same(now.get(k), original.get(k)), k).toBe(true);
    for (const k of ['5.weight', '5.bias']) expect(same(now.get(k), original.get(k)), k).toBe(false);
  });

  it('--head-only (backprop and tpsgd) trains only the last layer with parameters; batch-norm statistics stay', {
    tags: ['invariant'],
  }, async () => {
    for (const rule of ['backprop', 'tpsgd'] as const) {
      const out = `${dir}head-${rule}`;
      await quiet(() => runTrain(args({ rule, headOnly: true, out })));
      const ck = await loadCheckpoint(out);
      expect(ck.config.frozenLayers, rule).toBe(5);
      const now = checkpointTensors(ck);
      for (const k of ['0.weight', '0.bias', '1.gamma', '1.beta', '1.runningMean', '1.runningVar'])
        expect(same(now.get(k), original.get(k)), `${rule} ${k}`).toBe(true);
      for (const k of ['5.weight', '5.bias']) expect(same(now.get(k), original.get(k)), `${rule} ${k}`).toBe(false);
    }
  });

  it('--rule noprop-dt --head-only learns as a head on the frozen layers; the trunk keeps the file weights', {
    tags: ['invariant'],
  }, async () => {
    const out = `${dir}noprop-head`;
    const { log } = await quiet(() => runTrain(args({ rule: 'noprop-dt', headOnly: true, out })));
    expect(log).toMatch(/noprop-dt learns as a head on layers 0–4 of .*cnn\.onnx \(frozen\)/);
    const ck = await loadCheckpoint(out);
    expect(ck.config.trunk).toHaveLength(5);
    expect(ck.config.inputShape).toEqual([1, 28, 28]);
    for (const [k, v] of original)
      if (!k.startsWith('5.')) expect(same(ck.buffers[`trunk.${k}`]?.data, v), k).toBe(true);
    const { value: acc } = await quiet(() => runEval({ model: out, data: 'mnist', backend: 'wasm', json: true }));
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    await quiet(() =>
      runExplain({
        model: out,
        data: 'mnist',
        index: 0,
        method: 'occlusion',
        out: `${dir}noprop-explain`,
        backend: 'wasm',
      }),
    );
    await expect(runExport({ model: out, out: `${dir}noprop.onnx` })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('head on a frozen network, which has no ONNX export'),
    });
  });

  it('--data DIR (an image folder) fine-tunes the same way', { tags: ['invariant'] }, async () => {
    const m = await loadMnist();
    const folder = `${dir}digits`;
    await writeDigits(folder, 'train', m.train.images, m.train.labels, 200);
    await writeDigits(folder, 'test', m.test.images, m.test.labels, 200);
    const out = `${dir}folder`;
    const err = console.error;
    console.error = () => {};
    try {
      await quiet(() => runTrain(args({ data: folder, limit: undefined, freeze: 2, out })));
      await expect(runTrain(args({ data: folder, limit: undefined, freeze: 2, imageSize: 14 }))).rejects.toMatchObject({
        code: 'SHAPE_MISMATCH',
        message: expect.stringMatching(/takes \[N, 1, 28, 28\] but .*digits gives \[N, 1, 14, 14\]/),
        hint: expect.stringContaining('--channels 1 --image-size 28'),
      });
    } finally {
      console.error = err;
    }
    const now = checkpointTensors(await loadCheckpoint(out));
    for (const k of ['0.weight', '1.gamma', '1.runningMean', '1.runningVar'])
      expect(same(now.get(k), original.get(k)), k).toBe(true);
    expect(same(now.get('5.weight'), original.get('5.weight'))).toBe(false);
  });
});

/** `runTrain` with these options and its log silenced (it is expected to fail). */
const attempt = (o: Partial<TrainArgs>) => quiet(() => runTrain(args(o)));

describe('train --init: what does not fit is a typed error before training', () => {
  it('--freeze N beyond the last layer with parameters, and options that do not combine', {
    tags: ['behaviour'],
  }, async () => {
    await expect(attempt({ freeze: 6 })).rejects.toMatchObject({
      name: 'LayerhiveError',
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining("freezing 6 of the model's 6 layers leaves nothing to train"),
      hint: 'freeze a whole number of layers from 0 to 5',
    });
    await expect(attempt({ init: undefined, freeze: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('--freeze freezes layers of a network given with --init'),
    });
    await expect(attempt({ freeze: 1, headOnly: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(attempt({ resume: `${dir}nowhere` })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(attempt({ rule: 'noprop-dt' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      hint: expect.stringContaining('--head-only or --freeze N'),
    });
    await expect(attempt({ rule: 'noprop-dt', headOnly: true, workers: 2 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('a noprop-dt head on a frozen network trains in one thread'),
    });
  });

  it("a model whose input shape or class count is not the data's", { tags: ['behaviour'] }, async () => {
    await writeModel(`${dir}small.onnx`, [1, 8, 8]);
    await expect(attempt({ init: `${dir}small.onnx` })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining('takes [N, 1, 8, 8] but mnist gives [N, 1, 28, 28]'),
    });
    await writeModel(`${dir}five.onnx`, [1, 28, 28], 5);
    await expect(attempt({ init: `${dir}five.onnx`, freeze: 1 })).rejects.toMatchObject({
      code: 'SHAPE_MISMATCH',
      message: expect.stringContaining('outputs [N, 5] but mnist has 10 classes'),
    });
  });
});
