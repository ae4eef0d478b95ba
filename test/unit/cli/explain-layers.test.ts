/**
 * `layerhive explain --layer <name|index> [--neuron k]` from source (runExplain, in-process): CAM at a named layer and
 * the layer and neuron methods give what the library's `explain` gives on the same model and test image, the layer
 * attributions with the layer's shape; a missing `--layer`/`--neuron`, an unknown layer name and a unit outside the
 * layer are typed errors before anything is written. On a seeded CNN checkpoint and on the ResNet PyTorch exported
 * (test/fixtures/onnx), whose layers are named after their ONNX nodes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRule, explain, loadOnnx, Rng, type ExplainOptions, type RuleConfig } from '../../../src/index.js';
import type { ExplainTarget } from '../../../src/explain/explain.js';
import { captureCheckpoint } from '../../../src/store/checkpoint.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { normalizePixels } from '../../../src/data/batches.js';
import { runExplain } from '../../../src/cli/explain.js';
import { loadData } from '../../../src/cli/train.js';
import { js } from '../helpers.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-explain-layers/', import.meta.url));
const resnet = fileURLToPath(new URL('../../fixtures/onnx/resnet.torchscript13-nofold.onnx', import.meta.url));

/** Runs `fn` with console.log and console.error (an image folder's summary) captured. */
async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const [log, err] = [console.log, console.error];
  console.log = () => {};
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
    console.error = err;
  }
}

/** Values as attributions.json holds them (JSON writes −0 as 0). */
const asJson = (v: Float32Array): number[] => JSON.parse(JSON.stringify(Array.from(v)));

type Args = Parameters<typeof runExplain>[0];

/** A model as the CLI is given it, and the same model and test image for the library call. */
interface Subject {
  name: string;
  /** The CLI's arguments, less method, layer, neuron, out. */
  args: Omit<Args, 'method' | 'out'>;
  /**
   * A layer for CAM (not the default one), one with [C, H, W] output for layer IG, one for the neuron, and the index
   * of the last (the class scores).
   */
  layers: { cam: string; camIndex: number; lig: string; ligShape: number[]; neuron: string; scores: string };
  /** A unit of `layers.neuron` the image reaches (not a dead corner), flat and per axis. */
  unit: { flat: number; axes: string };
  setup(): Promise<{ model: ExplainTarget; x: Float32Array; release(): void }>;
}

/** The test image the CLI explains: `--index` of `--data`'s test split, normalised as the CLI does. */
async function testImage(args: Subject['args']): Promise<Float32Array> {
  const { test } = await quiet(() =>
    loadData(args.data, undefined, { imageSize: args.imageSize, channels: args.channels }),
  );
  const per = test.shape.reduce((p, d) => p * d, 1);
  return normalizePixels(test.images.subarray(args.index * per, (args.index + 1) * per));
}

const cnnConfig: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [
    { type: 'conv2d', filters: 4, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', filters: 6, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 10 },
  ],
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 5,
  optimizer: { type: 'adam', lr: 1e-3 },
};

/** An RGB image folder of 16×16 PNGs (two classes, train and test), for the ResNet's [3, 16, 16] input. */
function writeImageFolder(root: string): void {
  const rng = new Rng(11);
  for (const split of ['train', 'test'])
    for (const cls of ['a', 'b']) {
      mkdirSync(`${root}/${split}/${cls}`, { recursive: true });
      for (let k = 0; k < 2; k++) {
        const png = new pngjs.PNG({ width: 16, height: 16 });
        for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : Math.floor(rng.uniform() * 256);
        writeFileSync(`${root}/${split}/${cls}/${k}.png`, pngjs.PNG.sync.write(png));
      }
    }
}

const subjects: Subject[] = [
  {
    name: 'a seeded CNN checkpoint',
    args: { model: `${dir}ck`, data: 'mnist', index: 3, backend: 'js', samples: 8 },
    // the default CAM layer is relu_1, the last with [C, H, W] output
    layers: { cam: 'relu', camIndex: 1, lig: 'conv2d_1', ligShape: [6, 14, 14], neuron: 'maxpool2d', scores: '6' },
    unit: { flat: (1 * 14 + 7) * 14 + 7, axes: '1,7,7' },
    async setup() {
      const rule = createRule(cnnConfig, js);
      const { store, name } = FsCheckpointStore.at(`${dir}ck`);
      await store.save(name, await captureCheckpoint(rule, cnnConfig));
      return { model: rule, x: await testImage(this.args), release: () => rule.dispose() };
    },
  },
  {
    name: 'the ResNet PyTorch exported (ONNX, layers named after nodes)',
    args: { model: resnet, data: `${dir}rgb`, imageSize: 16, channels: 3, index: 1, backend: 'js', samples: 8 },
    layers: {
      cam: '/layer1/Add',
      camIndex: 3,
      lig: '/layer2/Add',
      ligShape: [16, 8, 8],
      neuron: '/layer2/relu_1/Relu',
      scores: '9',
    },
    unit: { flat: 3, axes: '0,0,3' },
    async setup() {
      writeImageFolder(`${dir}rgb`);
      const { model } = await loadOnnx(new Uint8Array(readFileSync(resnet)), js);
      return { model, x: await testImage(this.args), release: () => {} };
    },
  },
];

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
});

describe.each(subjects)('explain --layer on $name', (s) => {
  let lib: Awaited<ReturnType<Subject['setup']>>;
  let runs = 0;
  beforeAll(async () => {
    lib = await s.setup();
  });
  afterAll(() => lib.release());

  /** Runs the CLI's explain; returns its attributions.json and the output folder. */
  const cli = async (extra: Pick<Args, 'method'> & Partial<Args>) => {
    const out = `${dir}${s.args.data === 'mnist' ? 'cnn' : 'onnx'}-out-${runs++}`;
    await quiet(() => runExplain({ ...s.args, ...extra, out }));
    return { json: JSON.parse(readFileSync(`${out}/attributions.json`, 'utf8')), out };
  };
  const library = (o: ExplainOptions) =>
    explain(lib.model, lib.x, { baseline: normalizePixels(new Uint8Array(lib.x.length)), samples: 8, ...o });

  it('grad-cam --layer NAME (or its index) gives the library’s Grad-CAM at that layer', {
    tags: ['self-comparison'],
  }, async () => {
    const { json } = await cli({ method: 'grad-cam', layer: s.layers.cam });
    const want = await explain(lib.model, lib.x, { method: 'grad-cam', layer: s.layers.cam });
    const got = json.methods['grad-cam'];
    expect(got.values).toEqual(asJson(want.values));
    expect(got.target).toBe(want.target);
    expect(got.layer).toBe(s.layers.cam);
    const byIndex = await cli({ method: 'grad-cam', layer: String(s.layers.camIndex) });
    expect(byIndex.json.methods['grad-cam'].values).toEqual(got.values);
    // not the default layer's map: the option reached the method
    const byDefault = await cli({ method: 'grad-cam' });
    expect(byDefault.json.methods['grad-cam'].values).not.toEqual(got.values);
  });

  it('layer-integrated-gradients --layer NAME writes the library’s values, of the layer’s shape, and PNGs', {
    tags: ['self-comparison'],
  }, async () => {
    const { json, out } = await cli({ method: 'layer-integrated-gradients', layer: s.layers.lig });
    const want = await library({ method: 'layer-integrated-gradients', layer: s.layers.lig });
    const got = json.methods['layer-integrated-gradients'];
    expect(got.shape).toEqual(s.layers.ligShape);
    expect(want.shape).toEqual(s.layers.ligShape);
    expect(got.values).toEqual(asJson(want.values));
    expect(got.delta).toBe(want.delta);
    expect(got.values.some((v: number) => v !== 0)).toBe(true);
    expect(json.shape).toEqual(s.args.channels === 3 ? [3, 16, 16] : [1, 28, 28]);
    // the channel-summed map, upsampled to the input, pictured as the other methods are (10 pixels per pixel)
    const png = pngjs.PNG.sync.read(readFileSync(`${out}/layer-integrated-gradients-heatmap.png`));
    expect([png.width, png.height]).toEqual([10 * json.shape[2], 10 * json.shape[1]]);
    expect(existsSync(`${out}/layer-integrated-gradients-overlay.png`)).toBe(true);
    // a layer that is not [C, H, W] (the class scores): its attributions in the JSON, no picture
    const last = await cli({ method: 'layer-gradient-x-activation', layer: s.layers.scores });
    const lga = last.json.methods['layer-gradient-x-activation'];
    const wantLast = await library({ method: 'layer-gradient-x-activation', layer: Number(s.layers.scores) });
    expect(lga.shape).toEqual([10]);
    expect(lga.values).toEqual(asJson(wantLast.values));
    expect(existsSync(`${last.out}/layer-gradient-x-activation-heatmap.png`)).toBe(false);
  });

  it('neuron-gradient --layer NAME --neuron K (or c,h,w) gives the library’s input attributions', {
    tags: ['self-comparison'],
  }, async () => {
    const { json, out } = await cli({ method: 'neuron-gradient', layer: s.layers.neuron, neuron: String(s.unit.flat) });
    const want = await library({ method: 'neuron-gradient', layer: s.layers.neuron, neuron: s.unit.flat });
    const got = json.methods['neuron-gradient'];
    expect(got.values).toEqual(asJson(want.values));
    expect(got.values.length).toBe(lib.x.length);
    expect(got.values.some((v: number) => v !== 0)).toBe(true);
    expect(got.target).toBe(-1);
    expect(existsSync(`${out}/neuron-gradient-heatmap.png`)).toBe(true);
    const perAxis = await cli({ method: 'neuron-gradient', layer: s.layers.neuron, neuron: s.unit.axes });
    expect(perAxis.json.methods['neuron-gradient'].values).toEqual(got.values);
  });

  it('a missing --layer or --neuron, an unknown layer, a unit outside the layer: typed errors, nothing written', {
    tags: ['behaviour'],
  }, async () => {
    const refused = async (extra: Pick<Args, 'method'> & Partial<Args>) => {
      const out = `${dir}refused`;
      rmSync(out, { recursive: true, force: true });
      const e = await quiet(() => runExplain({ ...s.args, ...extra, out })).catch((x: unknown) => x);
      expect(existsSync(out), 'nothing written').toBe(false);
      return e;
    };
    expect(await refused({ method: 'saliency,layer-integrated-gradients' })).toMatchObject({
      name: 'LayerhiveError',
      code: 'INVALID_ARGUMENT',
      detail: '--method layer-integrated-gradients needs --layer <name|index> (the layer attributed at)',
      hint: expect.stringContaining(`${s.layers.camIndex} ${s.layers.cam} `),
    });
    expect(await refused({ method: 'neuron-gradient', layer: s.layers.neuron })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      detail: expect.stringContaining('--method neuron-gradient needs --neuron <k>'),
    });
    expect(await refused({ method: 'grad-cam', layer: 'no-such-layer' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      detail: 'grad-cam: option layer "no-such-layer" names no layer of this model',
      hint: expect.stringContaining(s.layers.lig),
    });
    expect(await refused({ method: 'neuron-gradient', layer: s.layers.neuron, neuron: '100000' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      detail: expect.stringMatching(/option neuron 100000 is not a unit index in \[0, \d+\)/),
    });
    expect(await refused({ method: 'neuron-gradient', layer: s.layers.neuron, neuron: 'x' })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      detail: '--neuron "x" is not a unit index',
    });
    expect(await refused({ method: 'ig', layer: s.layers.cam })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      detail: expect.stringContaining('--layer applies to grad-cam'),
    });
  });
});
