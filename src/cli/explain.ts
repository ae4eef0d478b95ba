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
import { methodNames, type Attribution, type MethodName } from '../explain/types.js';
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

/** Methods from a comma list ('all' = every method the model supports). */
export function parseMethods(list: string, model: Explainable): MethodName[] {
  const gradients = !!model.gradients,
    maps = (model.mapLayers ?? []).length > 0;
  const supported = (m: MethodName) =>
    ['occlusion', 'feature-ablation', 'lime', 'kernel-shap', 'rise'].includes(m) ||
    (gradients && ((!m.includes('cam') && m !== 'normgrad') || maps));
  if (list === 'all') return methodNames.filter(supported);
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = (aliases[s] ?? s) as MethodName;
      if (!methodNames.includes(m))
        fail(
          'INVALID_ARGUMENT',
          `unknown method ${JSON.stringify(s)}`,
          `use one of: ${methodNames.join(', ')} (or ${Object.keys(aliases).join(', ')}, all)`,
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
}): Promise<void> {
  const { test } = await loadData(a.data);
  const explained = await loadExplained(a.model, a.backend, test);
  try {
    await explainOne(a, explained, test);
  } finally {
    explained.release();
  }
}

async function explainOne(a: Parameters<typeof runExplain>[0], e: Explained, test: ImageDataset): Promise<void> {
  const model = e.model;
  const methods = parseMethods(a.method, model);
  const x = image(test, a.index),
    per = x.length,
    shape = e.inputShape;
  await mkdir(a.out, { recursive: true });
  await writePng(join(a.out, 'input.png'), inputPicture(x, shape));
  const results: Record<string, Record<string, unknown>> = {};
  for (const method of methods) {
    const t0 = performance.now();
    const r = await explain(model, x, { method, baseline: blackBaseline(per), samples: a.samples, target: a.target });
    const ms = performance.now() - t0;
    await writePng(join(a.out, `${method}-heatmap.png`), heatmapPicture(r.values, shape));
    await writePng(join(a.out, `${method}-overlay.png`), overlayPicture(x, r.values, shape));
    results[method] = { ...plainAttribution(r), ms };
    const delta = r.delta !== undefined ? `, delta ${r.delta.toExponential(2)}` : '';
    console.log(
      `${method}: class ${r.target}, ${r.modelCalls} model calls, ${ms.toFixed(0)} ms` +
        `${delta} → ${join(a.out, `${method}-overlay.png`)}`,
    );
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
  console.log(`wrote ${join(a.out, 'attributions.json')} and ${1 + 2 * methods.length} PNGs`);
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
