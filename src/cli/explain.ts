import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pngjs from 'pngjs';
import Table from 'cli-table3';
import { fail } from '../core/errors.js';
import { normalizePixels } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { explain } from '../explain/explain.js';
import { fromRule, fromSequential, type Explainable } from '../explain/model.js';
import { createBackend } from '../backend/select.js';
import { loadOnnx } from '../onnx/import.js';
import {
  layerMethodNames,
  methodNames,
  type Attribution,
  type ExplainMethod,
  type ExplainOptions,
  type MethodName,
} from '../explain/types.js';
import { checkOptions, layerMethods, neuronMethods } from '../explain/options.js';
import { upsample } from '../explain/cam-methods.js';
import { heatmapPicture, inputPicture, overlayPicture, type Picture } from '../explain/heatmap.js';
import { completenessError, deletionInsertion, infidelity, localisation } from '../explain/metrics/index.js';
import { digitOnTop, loadData, loadRuleCheckpoint } from './train.js';

/** Short names the CLI also accepts. */
const aliases: Record<string, MethodName> = {
  ig: 'integrated-gradients',
  sg: 'smoothgrad',
  ixg: 'input-x-gradient',
  gbp: 'guided-backprop',
  shap: 'kernel-shap',
  gradcam: 'grad-cam',
};

/**
 * Methods from a comma list ('all' = every method of `methodNames` the model supports); with `layers`, the layer and
 * neuron methods too (`layerMethodNames`: named only, never in 'all').
 */
export function parseMethods(list: string, model: Explainable, layers = false): ExplainMethod[] {
  const known: readonly ExplainMethod[] = layers ? [...methodNames, ...layerMethodNames] : methodNames;
  const gradients = !!model.gradients,
    maps = (model.mapLayers ?? []).length > 0;
  const supported = (m: ExplainMethod) =>
    ['occlusion', 'feature-ablation', 'lime', 'kernel-shap', 'rise'].includes(m) ||
    (gradients && ((!m.includes('cam') && m !== 'normgrad') || maps));
  if (list === 'all') return methodNames.filter(supported);
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = (aliases[s] ?? s) as ExplainMethod;
      if (!known.includes(m))
        fail(
          'INVALID_ARGUMENT',
          `unknown method ${JSON.stringify(s)}`,
          `use one of: ${known.join(', ')} (or ${Object.keys(aliases).join(', ')}, all)`,
        );
      if (!supported(m))
        fail(
          'INVALID_ARGUMENT',
          `${m} needs ${m.includes('cam') || m === 'normgrad' ? 'convolutional layers' : 'gradients'}, ` +
            'which this model does not offer',
          'use a perturbation method (occlusion, feature-ablation, lime, kernel-shap, rise), or a backprop/tpsgd CNN',
        );
      return m;
    });
}

async function writePng(path: string, p: Picture): Promise<void> {
  const png = new pngjs.PNG({ width: p.width, height: p.height });
  png.data = Buffer.from(p.rgba.buffer, p.rgba.byteOffset, p.rgba.byteLength);
  await writeFile(path, pngjs.PNG.sync.write(png));
}

function image(ds: ImageDataset, index: number): Float32Array {
  if (!(Number.isInteger(index) && index >= 0 && index < ds.count))
    fail(
      'INVALID_ARGUMENT',
      `--index ${index} is outside the ${ds.count} test images`,
      `pass an index in [0, ${ds.count})`,
    );
  const per = ds.shape.reduce((p, d) => p * d, 1);
  return normalizePixels(ds.images.subarray(index * per, (index + 1) * per));
}

/**
 * An attribution as JSON holds it: its typed arrays (`values`, occlusion's `coverage`, KernelSHAP's
 * `standardError`) as arrays, which JSON.stringify would write as {"0": …} objects.
 */
export function plainAttribution(a: Attribution): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v]),
  );
}

/** Methods that take `--layer`: the CAM methods (else their default layer) and the layer and neuron methods. */
const camNames: readonly ExplainMethod[] = ['grad-cam', 'grad-cam++', 'smooth-grad-cam++', 'normgrad'];
const takesLayer = (m: ExplainMethod) => camNames.includes(m) || layerMethods.includes(m) || neuronMethods.includes(m);

/** `--layer`: digits are an index in the model's layer list, anything else a layer's name (`layerNames`). */
export function parseLayer(s: string | undefined): number | string | undefined {
  if (s === undefined) return undefined;
  return /^\d+$/.test(s) ? Number(s) : s;
}

/** `--neuron`: a flat index into the layer's output, or one index per axis (`c,h,w`). */
export function parseNeuron(s: string | undefined): number | number[] | undefined {
  if (s === undefined) return undefined;
  const parts = s.split(',').map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p)))
    fail(
      'INVALID_ARGUMENT',
      `--neuron ${JSON.stringify(s)} is not a unit index`,
      "pass a flat index into the layer's output (--neuron 3) or one index per axis (--neuron 0,2,5)",
    );
  const v = parts.map(Number);
  return v.length === 1 ? v[0] : v;
}

/** The model's layers as the hints list them: index, name, output shape. */
function layerList(model: Explainable): string {
  const names = model.layerNames ?? [];
  return names.map((n, i) => `${i} ${n} ${(model.layerShapes?.[i] ?? []).join('×')}`).join(', ');
}

/**
 * Each method's options, every one checked before any work: a layer or neuron method without `--layer` (the hint
 * lists the model's layers) or `--neuron`, `--layer`/`--neuron` that no method takes, then the library's own checks
 * (`checkOptions`: an unknown layer name, a unit outside the layer's output, …).
 */
function methodOptions(
  methods: readonly ExplainMethod[],
  a: Parameters<typeof runExplain>[0],
  model: Explainable,
  baseline: Float32Array,
): ExplainOptions[] {
  const layer = parseLayer(a.layer),
    neuron = parseNeuron(a.neuron);
  if (layer !== undefined && !methods.some(takesLayer))
    fail(
      'INVALID_ARGUMENT',
      `--layer applies to ${[...camNames, ...layerMethodNames].join(', ')}; --method ${a.method} has none of them`,
      'add one of them to --method, or leave --layer out',
    );
  if (neuron !== undefined && !methods.some((m) => neuronMethods.includes(m)))
    fail(
      'INVALID_ARGUMENT',
      `--neuron applies to ${neuronMethods.join(' and ')}; --method ${a.method} has neither`,
      'add one of them to --method, or leave --neuron out',
    );
  return methods.map((method) => {
    const unit = neuronMethods.includes(method);
    const role = unit ? 'whose unit is explained' : 'attributed at';
    if (layer === undefined && (unit || layerMethods.includes(method)))
      fail(
        'INVALID_ARGUMENT',
        `--method ${method} needs --layer <name|index> (the layer ${role})`,
        model.layerNames?.length
          ? `this model's layers (index, name, output shape): ${layerList(model)}`
          : 'explain a network of layers',
      );
    if (unit && neuron === undefined) {
      const at = typeof layer === 'number' ? layer : (model.layerNames?.indexOf(layer as string) ?? -1);
      const shape = model.layerShapes?.[at];
      fail(
        'INVALID_ARGUMENT',
        `--method ${method} needs --neuron <k> (the unit of layer ${a.layer}'s output explained)`,
        shape
          ? `pass a flat index in [0, ${shape.reduce((p, d) => p * d, 1)}) into its output [${shape.join(', ')}]` +
              ` (--neuron 0) or one index per axis (--neuron ${shape.map(() => 0).join(',')})`
          : "pass a flat index into the layer's output (--neuron 0)",
      );
    }
    const o: ExplainOptions = {
      method,
      baseline,
      samples: a.samples,
      target: a.target,
      ...(takesLayer(method) && layer !== undefined ? { layer } : {}),
      ...(unit ? { neuron } : {}),
    };
    checkOptions(o, {
      inputShape: model.inputShape,
      classes: model.classes,
      batch: null,
      layerNames: model.layerNames,
      layerShapes: model.layerShapes,
    });
    return o;
  });
}

/**
 * A layer attribution [C, h, w] as a map of the input's shape, for the PNGs: summed over channels, upsampled
 * bilinearly as CAM's maps are, the same on each input channel; null for a layer output of another shape.
 */
function layerMap(r: Attribution, shape: readonly number[]): Float32Array | null {
  if (r.shape.length !== 3 || shape.length !== 3) return null;
  const [C, h, w] = r.shape,
    [Cin, H, W] = shape;
  const sum = new Float64Array(h * w);
  for (let c = 0; c < C; c++) for (let i = 0; i < h * w; i++) sum[i] += r.values[c * h * w + i];
  const up = upsample(sum, h, w, H, W);
  return Float32Array.from({ length: Cin * H * W }, (_, i) => up[i % (H * W)]);
}

/** What `explain` and `explain-eval` attribute: a checkpoint's rule or an ONNX file's network, and what it takes. */
interface Explained {
  model: Explainable;
  /** The checkpoint's rule; null for an ONNX file. */
  rule: string | null;
  /** How the tables name it. */
  title: string;
  inputShape: readonly number[];
  release(): void;
}

/**
 * `--model`: a file is an ONNX classifier, loaded as layers (`loadOnnx`: the gradient methods and CAM work on it as on
 * a checkpoint's network); anything else a checkpoint folder. Its input must be the test images' shape.
 */
async function loadExplained(path: string, backendName: string, test: ImageDataset): Promise<Explained> {
  let e: Explained;
  if ((await stat(path).catch(() => null))?.isFile()) {
    const backend = await createBackend(backendName);
    const { model, notes } = await loadOnnx(new Uint8Array(await readFile(path)), backend).catch((err) => {
      backend.destroy?.();
      throw err;
    });
    for (const n of notes) console.log(`note: ${n}`);
    e = {
      model: fromSequential(model),
      rule: null,
      title: `${path} (ONNX)`,
      inputShape: model.spec.input,
      release: () => backend.destroy?.(),
    };
    if (model.outputShape.length !== 1) {
      e.release();
      fail(
        'DATA_INVALID',
        `${path} outputs [N, ${model.outputShape.join(', ')}], not class scores [N, classes]`,
        'explain a classifier',
      );
    }
  } else {
    const { rule, config, backend } = await loadRuleCheckpoint(path, backendName);
    e = {
      model: fromRule(rule, config.inputShape, config.classes),
      rule: config.rule,
      title: `${config.rule} (${config.model})`,
      inputShape: config.inputShape,
      release: () => {
        rule.dispose();
        backend.destroy?.();
      },
    };
  }
  if (e.inputShape.length !== test.shape.length || e.inputShape.some((d, i) => d !== test.shape[i])) {
    e.release();
    fail(
      'SHAPE_MISMATCH',
      `${path} takes [N, ${e.inputShape.join(', ')}] but the test images are [N, ${test.shape.join(', ')}]`,
      'explain it on images of its input shape',
    );
  }
  return e;
}

/** The MNIST normalisation of a black image: the reference input of the baseline methods. */
const blackBaseline = (per: number) => normalizePixels(new Uint8Array(per));

export async function runExplain(a: {
  model: string;
  data: string;
  index: number;
  method: string;
  out: string;
  backend: string;
  samples?: number;
  target?: number;
  /** CAM, layer and neuron methods: a layer's name or index (digits). */
  layer?: string;
  /** Neuron methods: a flat unit index, or one per axis (`c,h,w`). */
  neuron?: string;
  /** An image folder as `--data`: its images' side and channels (default 28, 1). */
  imageSize?: number;
  channels?: 1 | 3;
}): Promise<void> {
  const { test } = await loadData(a.data, undefined, { imageSize: a.imageSize, channels: a.channels });
  const explained = await loadExplained(a.model, a.backend, test);
  try {
    await explainOne(a, explained, test);
  } finally {
    explained.release();
  }
}

async function explainOne(a: Parameters<typeof runExplain>[0], e: Explained, test: ImageDataset): Promise<void> {
  const model = e.model;
  const methods = parseMethods(a.method, model, true);
  const x = image(test, a.index),
    shape = e.inputShape;
  const options = methodOptions(methods, a, model, blackBaseline(x.length));
  await mkdir(a.out, { recursive: true });
  await writePng(join(a.out, 'input.png'), inputPicture(x, shape));
  const results: Record<string, Record<string, unknown>> = {};
  let pngs = 1;
  for (const o of options) {
    const method = o.method;
    const t0 = performance.now();
    const r = await explain(model, x, o);
    const ms = performance.now() - t0;
    // a layer method's values have the layer's shape: its [C, h, w] map summed over channels makes the pictures
    const map = layerMethods.includes(method) ? layerMap(r, shape) : r.values;
    let wrote = `no PNG for a layer output [${r.shape.join(', ')}]`;
    if (map) {
      await writePng(join(a.out, `${method}-heatmap.png`), heatmapPicture(map, shape));
      await writePng(join(a.out, `${method}-overlay.png`), overlayPicture(x, map, shape));
      pngs += 2;
      wrote = join(a.out, `${method}-overlay.png`);
    }
    results[method] = { ...plainAttribution(r), ...(o.layer !== undefined ? { layer: o.layer } : {}), ms };
    const what = neuronMethods.includes(method)
      ? `unit ${a.neuron} of layer ${a.layer}`
      : `class ${r.target}${layerMethods.includes(method) ? ` at layer ${a.layer} [${r.shape.join(', ')}]` : ''}`;
    const delta = r.delta !== undefined ? `, delta ${r.delta.toExponential(2)}` : '';
    console.log(`${method}: ${what}, ${r.modelCalls} model calls, ${ms.toFixed(0)} ms${delta} → ${wrote}`);
  }
  await writeFile(
    join(a.out, 'attributions.json'),
    JSON.stringify({
      model: a.model,
      rule: e.rule,
      data: a.data,
      index: a.index,
      label: test.labels[a.index],
      shape,
      methods: results,
    }),
  );
  console.log(`wrote ${join(a.out, 'attributions.json')} and ${pngs} PNGs`);
}

/**
 * Per method over `count` test images: completeness residual, deletion/insertion AUC, infidelity, BlockMNIST
 * localisation, time.
 */
export async function runExplainEval(a: {
  model: string;
  data: string;
  methods: string;
  count: number;
  backend: string;
  samples?: number;
  json: boolean;
}): Promise<void> {
  const { test } = await loadData(a.data);
  const explained = await loadExplained(a.model, a.backend, test);
  try {
    await scoreMethods(a, explained, test);
  } finally {
    explained.release();
  }
}

async function scoreMethods(a: Parameters<typeof runExplainEval>[0], e: Explained, test: ImageDataset): Promise<void> {
  const model = e.model;
  const methods = parseMethods(a.methods, model);
  const tops = digitOnTop.get(test);
  const rows = [];
  for (const method of methods) {
    const acc = {
      completeness: [] as number[],
      deletion: [] as number[],
      insertion: [] as number[],
      infidelity: [] as number[],
      localisation: [] as number[],
      ms: [] as number[],
    };
    for (let i = 0; i < Math.min(a.count, test.count); i++) {
      const x = image(test, i),
        base = blackBaseline(x.length);
      const t0 = performance.now();
      const r = await explain(model, x, { method, baseline: base, samples: a.samples });
      acc.ms.push(performance.now() - t0);
      const c = completenessError(r);
      if (c !== null) acc.completeness.push(c);
      const di = await deletionInsertion(model, x, r, { baseline: base });
      acc.deletion.push(di.deletion);
      acc.insertion.push(di.insertion);
      acc.infidelity.push(await infidelity(model, x, r));
      if (tops) acc.localisation.push(localisation(r, tops[i] === 1));
    }
    const mean = (v: number[]) => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : null);
    rows.push({
      method,
      completeness_error: mean(acc.completeness),
      deletion_auc: mean(acc.deletion),
      insertion_auc: mean(acc.insertion),
      infidelity: mean(acc.infidelity),
      localisation: mean(acc.localisation),
      ms_per_image: mean(acc.ms),
    });
  }
  if (a.json) {
    console.log(
      JSON.stringify(
        { model: a.model, rule: e.rule, data: a.data, images: Math.min(a.count, test.count), rows },
        null,
        2,
      ),
    );
    return;
  }
  const f = (v: number | null, d = 3) => (v === null ? '-' : v.toFixed(d));
  const table = new Table({
    head: [
      'method',
      'completeness |δ|/|ΔF|',
      'deletion AUC ↓',
      'insertion AUC ↑',
      'infidelity ↓',
      ...(tops ? ['localisation ↑'] : []),
      'ms/image',
    ],
  });
  for (const r of rows)
    table.push([
      r.method,
      f(r.completeness_error, 4),
      f(r.deletion_auc),
      f(r.insertion_auc),
      r.infidelity === null ? '-' : r.infidelity.toExponential(2),
      ...(tops ? [f(r.localisation)] : []),
      f(r.ms_per_image, 0),
    ]);
  console.log(`${e.title} on ${a.data}, ${Math.min(a.count, test.count)} test images`);
  console.log(table.toString());
}
