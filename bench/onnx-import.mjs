// The `onnx-import` suite: the PyTorch 2.15 exports of test/fixtures/onnx read by `loadOnnx`, in one run:
//   1. agreement: max |Δ| of layerhive (wasm) against onnxruntime-node on the fixture's input (batch 2) and against
//      torch's outputs stored beside it (the .json);
//   2. import: `loadOnnx(bytes, backend)` ms, median of 7 after one untimed call;
//   3. predict at batch 32 (seeded uniform [-1, 1) batch of the fixture's input shape), Float32Array in, Float32Array
//      out for every impl: layerhive wasm (relaxed SIMD when the engine validates it; `npm run bench` arranges that)
//      `tidy(() => model.predict(tensor(x)).dataSync())`, onnxruntime-web (wasm EP, numThreads 1) and
//      onnxruntime-node (CPU EP, 1 intra-op thread, the native reference) `session.run()` on the SAME .onnx file;
//      medians of ≥ 11 samples after warm-up (bench/timing.mjs);
//   4. fine-tuning the imported VGG on an image folder of MNIST PNGs (.tmp/bench-onnx-folder/{train,test}/<digit>/)
//      with `layerhive train --init … --rule backprop --epochs 1` as a child process: full, --head-only, --freeze 4,
//      and the imported model's test accuracy before training.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs onnx-import [--quick] [--limit N] [--out FILE]
//
// --quick: 5 samples a row, 500 training / 200 test PNGs; --limit N: N training PNGs (default 2 000).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import onnxProto from 'onnx-proto';
import * as ortWebAll from 'onnxruntime-web';
import ortNodeAll from 'onnxruntime-node';
import pngjs from 'pngjs';
import * as lh from '../dist/index.js';
import { loadMnist, readImageFolder } from '../dist/node.js';
import { machineInfo } from './machine.mjs';
import { seedFrom, uniformArray } from './random.mjs';
import { measure, median } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const RESULTS_FILE = join(here, 'results', 'onnx-import.json');
const FIXTURES = join(root, 'test', 'fixtures', 'onnx');
const FOLDER = join(root, '.tmp', 'bench-onnx-folder');
const CLI = join(root, 'bin', 'layerhive.js');
const FINE_TUNE_MODEL = 'vgg.dynamo.onnx';
/** The one fixture layerhive refuses on purpose (LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div). */
const EXPECTED_REFUSALS = new Set(['mlp_ln.torchscript13.onnx']);
/** A row is WRONG above this max |Δ| against onnxruntime-node (the import tests see ≤ 2e-6). */
const TOL = 1e-4;
const BATCH = 32;
const IMPORT_RUNS = 7;

const ortWeb = ortWebAll.default ?? ortWebAll;
const ortNode = ortNodeAll.default ?? ortNodeAll;
const WEB_OPTIONS = { executionProviders: ['wasm'], executionMode: 'sequential', graphOptimizationLevel: 'all' };
const NODE_OPTIONS = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

const log = (m) => process.stderr.write(`[onnx-import] ${m}\n`);
const errText = (e) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 400);
const sig = (x, d = 3) => (Number.isFinite(x) ? Number(x.toPrecision(d)) : null);

function maxAbsDiff(a, b) {
  if (!a || a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

/** ORT session for `bytes` and a `run(x, shape) → Float32Array`. */
async function ortRunner(ort, bytes, options) {
  const session = await ort.InferenceSession.create(bytes, options);
  const [input] = session.inputNames,
    [output] = session.outputNames;
  return {
    run: async (x, shape) => (await session.run({ [input]: new ort.Tensor('float32', x, shape) }))[output].data,
    release: () => session.release?.(),
  };
}

function freeModel(model) {
  lh.dispose([...model.namedParams().values(), ...model.namedBuffers().values()]);
}

/** Parts 1–3 for one fixture: a row, or a refusal { file, code, message }. */
async function fixtureRow(file, backend, preset) {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, file)));
  const fx = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.onnx$/, '.json')), 'utf8'));
  const [family, exporter] = file.replace(/\.onnx$/, '').split('.');
  const nodes = onnxProto.onnx.ModelProto.decode(bytes).graph.node.length;
  const base = { file, family, exporter, opset: fx.opset, nodes, op_types: fx.ops };
  let model;
  const t0 = performance.now();
  try {
    ({ model } = await lh.loadOnnx(bytes, backend));
  } catch (e) {
    return { ...base, refused: { code: e.code ?? e.name, message: errText(e) } };
  }
  const firstImportMs = performance.now() - t0;
  const importMs = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const t = performance.now();
    const { model: m } = await lh.loadOnnx(bytes, backend);
    importMs.push(performance.now() - t);
    freeModel(m);
  }
  const web = await ortRunner(ortWeb, bytes, WEB_OPTIONS);
  const node = await ortRunner(ortNode, bytes, NODE_OPTIONS);
  try {
    const ours = (x, shape) =>
      lh.tidy(() => Float32Array.from(model.predict(lh.tensor(x, shape, 'float32', backend)).dataSync()));
    // 1. agreement on the fixture's own input
    const x2 = Float32Array.from(fx.input.data);
    const y = ours(x2, fx.input.shape);
    const yNode = await node.run(x2, fx.input.shape);
    const yWeb = await web.run(x2, fx.input.shape);
    // 3. batch 32
    const shape = [BATCH, ...fx.input.shape.slice(1)];
    const x = uniformArray(
      shape.reduce((a, b) => a * b, 1),
      seedFrom(`onnx-import:${file}`),
    );
    const y32 = ours(x, shape);
    const y32Node = await node.run(x, shape);
    const t = {};
    t.ours = await measure(() => ours(x, shape), preset);
    t.web = await measure(() => web.run(x, shape), preset);
    t.node = await measure(() => node.run(x, shape), preset);
    const row = {
      ...base,
      layers: model.spec.layers.length,
      max_abs_diff_vs_ort_node: maxAbsDiff(y, yNode),
      max_abs_diff_vs_torch: maxAbsDiff(y, fx.torch),
      ort_node_vs_torch: maxAbsDiff(yNode, fx.torch),
      ort_web_vs_ort_node: maxAbsDiff(yWeb, yNode),
      batch32_max_abs_diff_vs_ort_node: maxAbsDiff(y32, y32Node),
      import_ms_median: median(importMs),
      import_ms_first: firstImportMs,
      import_runs: IMPORT_RUNS,
      predict_ms: { ours: t.ours.median * 1e3, ort_web: t.web.median * 1e3, ort_node: t.node.median * 1e3 },
      predict_samples: { ours: t.ours.repeats, ort_web: t.web.repeats, ort_node: t.node.repeats },
      ratio_ours_over_ort_web: t.ours.median / t.web.median,
      ratio_ours_over_ort_node: t.ours.median / t.node.median,
    };
    row.wrong = !(row.max_abs_diff_vs_ort_node <= TOL && row.batch32_max_abs_diff_vs_ort_node <= TOL);
    return row;
  } finally {
    freeModel(model);
    await web.release();
    await node.release();
  }
}

// ── part 4: fine-tuning ────────────────────────────────────────────────────────────────────────────────────────

/** An 8-bit grey image as a PNG (as test/unit/data/image-files.ts writes them: RGBA in, grey stored). */
function pngOfGrey(grey, width, height) {
  const png = new pngjs.PNG({ width, height });
  const rgba = Buffer.alloc(grey.length * 4);
  for (let i = 0; i < grey.length; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = grey[i];
    rgba[4 * i + 3] = 255;
  }
  png.data = rgba;
  return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 6, inputHasAlpha: true });
}

/** The first `count` digits of an MNIST split as `dir/<split>/<label>/<index>.png`. */
async function writeDigits(dir, split, set, count) {
  for (let i = 0; i < count; i++) {
    const folder = join(dir, split, String(set.labels[i]));
    await mkdir(folder, { recursive: true });
    const grey = set.images.subarray(i * 784, (i + 1) * 784);
    await writeFile(join(folder, `${String(i).padStart(5, '0')}.png`), pngOfGrey(grey, 28, 28));
  }
}

function runCli(args) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    execFile(process.execPath, [CLI, ...args], { cwd: root, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ error, stdout, stderr, wallS: (performance.now() - t0) / 1000 }),
    );
  });
}

const MODES = [
  { mode: 'full fine-tune', args: [] },
  { mode: '--head-only', args: ['--head-only'] },
  { mode: '--freeze 4', args: ['--freeze', '4'] },
];

async function fineTune(backend, nTrain, nTest) {
  const t0 = performance.now();
  rmSync(FOLDER, { recursive: true, force: true });
  const mnist = await loadMnist();
  await writeDigits(FOLDER, 'train', mnist.train, nTrain);
  await writeDigits(FOLDER, 'test', mnist.test, nTest);
  const writeS = (performance.now() - t0) / 1000;
  log(`wrote ${nTrain} training and ${nTest} test PNGs under ${FOLDER} in ${writeS.toFixed(1)} s`);
  const init = join(FIXTURES, FINE_TUNE_MODEL);
  const rows = [];
  // before training: the imported model on the test folder, evaluated as `train` does after each epoch
  {
    const t = performance.now();
    const data = await readImageFolder(FOLDER);
    const { model } = await lh.loadOnnx(new Uint8Array(readFileSync(init)), backend);
    try {
      const acc = await lh.evaluate((x) => model.predict(x), backend, data.test);
      rows.push({ mode: 'imported, before training', test_accuracy: acc, wall_s: (performance.now() - t) / 1000 });
      log(`before training: test accuracy ${(100 * acc).toFixed(2)}%`);
    } finally {
      freeModel(model);
    }
  }
  let failed = false;
  for (const { mode, args } of MODES) {
    const dir = join(FOLDER, `run-${mode.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const report = join(dir, 'report.json');
    const cli = [
      'train',
      '--init',
      init,
      '--rule',
      'backprop',
      '--data',
      FOLDER,
      '--epochs',
      '1',
      ...args,
      '--out',
      join(dir, 'checkpoint'),
      '--report',
      report,
      '--no-progress',
    ];
    const r = await runCli(cli);
    const command = `layerhive ${cli.map((a) => a.replace(`${root}/`, '')).join(' ')}`;
    if (r.error) {
      failed = true;
      rows.push({ mode, command, error: errText(r.stderr || r.error), wall_s: r.wallS });
      log(`${mode}: FAILED ${errText(r.stderr || r.error)}`);
      continue;
    }
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    const e = rep.per_epoch[0];
    rows.push({
      mode,
      command,
      test_accuracy: rep.test_accuracy,
      train_loss: e.trainLoss,
      epoch_s: e.seconds,
      samples_per_s: e.samplesPerSecond,
      cli_wall_s: rep.wall_s,
      wall_s: r.wallS,
      peak_rss_mb: rep.peak_rss_mb,
      summary: r.stdout.split('\n').find((l) => l.includes(FINE_TUNE_MODEL)) ?? null,
    });
    log(
      `${mode}: test accuracy ${(100 * rep.test_accuracy).toFixed(2)}%, epoch ${e.seconds.toFixed(1)} s, ` +
        `process ${r.wallS.toFixed(1)} s`,
    );
  }
  return { rows, failed, write_pngs_s: writeS };
}

// ── tables and JSON ───────────────────────────────────────────────────────────────────────────────────────────

const ms = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const exp = (x) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

function printTables(rows, refused, ft, machine) {
  const t = new Table({
    head: [
      'family / exporter',
      'ops (nodes)',
      'max|Δ| vs ORT',
      'max|Δ| vs torch',
      'import ms',
      'predict ms ours',
      'ort-web',
      'ort-node',
      'ours ÷ ort-web',
    ],
    style: { head: [], border: [] }, // no colours: the table is pasted into reports
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const r of rows)
    t.push([
      `${r.family} / ${r.exporter}`,
      `${r.op_types.length} (${r.nodes})`,
      `${exp(r.max_abs_diff_vs_ort_node)}${r.wrong ? ' WRONG' : ''}`,
      exp(r.max_abs_diff_vs_torch),
      ms(r.import_ms_median),
      ms(r.predict_ms.ours),
      ms(r.predict_ms.ort_web),
      ms(r.predict_ms.ort_node),
      r.ratio_ours_over_ort_web.toFixed(2),
    ]);
  for (const r of refused)
    t.push([`${r.family} / ${r.exporter}`, `${r.op_types.length} (${r.nodes})`, 'refused', '', '', '', '', '', '']);
  console.log(t.toString());
  console.log(
    `ops: distinct op types (ONNX nodes). max|Δ| on the fixture's batch of 2: vs onnxruntime-node and vs torch's ` +
      `outputs. import: loadOnnx, median of ${IMPORT_RUNS}. predict: batch ${BATCH}, Float32Array in and out, median ` +
      `ms; ours = layerhive ${machine.flavour}, ort-web = onnxruntime-web wasm 1 thread, ort-node = onnxruntime-node ` +
      `1 thread (native); ours ÷ ort-web < 1: layerhive faster. ${machine.cores} shared cores: compare within a run.`,
  );
  for (const r of refused) console.log(`refused: ${r.file} (${r.refused.code}): ${r.refused.message}`);
  if (!ft) return;
  const f = new Table({
    head: ['vgg / dynamo, 1 epoch', 'test acc', 'train loss', 'epoch s', 'samples/s', 'wall s'],
    style: { head: [], border: [] },
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
  });
  for (const r of ft.rows)
    f.push(
      r.error
        ? [r.mode, 'FAILED', '', '', '', r.wall_s.toFixed(1)]
        : [
            r.mode,
            `${(100 * r.test_accuracy).toFixed(2)}%`,
            r.train_loss === undefined ? '' : r.train_loss.toFixed(4),
            r.epoch_s === undefined ? '' : r.epoch_s.toFixed(1),
            r.samples_per_s === undefined ? '' : r.samples_per_s.toFixed(0),
            r.wall_s.toFixed(1),
          ],
    );
  console.log(f.toString());
  console.log(
    `layerhive train --init test/fixtures/onnx/${FINE_TUNE_MODEL} --rule backprop --data ${ft.folder} --epochs 1 ` +
      `(batch 32, adamw lr 1e-3, cosine, seed 0): ${ft.train} training / ${ft.test} test MNIST PNGs; epoch s = ` +
      'the training steps; wall s = the whole child process (start-up, PNG decoding, test pass, checkpoint) or, ' +
      'before training, reading the folder + loadOnnx + the test pass in this process.',
  );
  for (const r of ft.rows) if (r.error) console.log(`${r.mode} failed: ${r.error}`);
}

/**
 * Run the suite. opts: { quick?, limit? (training PNGs), out? }. Returns the exit code: 0 ok, 1 a row WRONG, an
 * unexpected refusal or a failed fine-tune.
 */
export async function runSuite(opts = {}) {
  const t0 = performance.now();
  const quick = !!opts.quick;
  const nTrain = opts.limit ?? (quick ? 500 : 2000);
  const nTest = quick ? 200 : 1000;
  const preset = quick
    ? { repeats: 5, minRepeats: 5, targetSampleS: 0.03, warmupS: 0.1, rowBudgetS: 1 }
    : { repeats: 11, minRepeats: 11, targetSampleS: 0.05, warmupS: 0.2, rowBudgetS: 2 };
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.wasm.proxy = false;
  ortWeb.env.logLevel = 'error';
  const backend = await lh.createBackend('wasm', { threads: 1 }); // beside peers and earlier figures: one thread
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.onnx'))
    .sort();
  const rows = [],
    refused = [];
  let failed = false;
  for (const file of files) {
    try {
      const r = await fixtureRow(file, backend, preset);
      if (r.refused) {
        refused.push(r);
        if (!EXPECTED_REFUSALS.has(file)) failed = true;
        log(`${file}: refused (${r.refused.code})`);
        continue;
      }
      rows.push(r);
      if (r.wrong) failed = true;
      log(
        `${file}: Δ ort ${exp(r.max_abs_diff_vs_ort_node)} torch ${exp(r.max_abs_diff_vs_torch)}; import ` +
          `${ms(r.import_ms_median)} ms; predict ${ms(r.predict_ms.ours)} / ${ms(r.predict_ms.ort_web)} / ` +
          `${ms(r.predict_ms.ort_node)} ms`,
      );
    } catch (e) {
      failed = true;
      log(`${file}: FAILED ${errText(e)}`);
      rows.push({ file, error: errText(e) });
    }
  }
  const good = rows.filter((r) => !r.error);
  let ft = null;
  try {
    ft = await fineTune(backend, nTrain, nTest);
    ft = { ...ft, folder: '.tmp/bench-onnx-folder', train: nTrain, test: nTest };
    if (ft.failed) failed = true;
  } catch (e) {
    failed = true;
    log(`fine-tune: FAILED ${errText(e)}`);
  }
  const machine = machineInfo({
    suite: 'onnx-import',
    quick,
    flavour: backend.flavour,
    note: 'shared cores: peers and layerhive move between runs; compare within one run',
  });
  backend.destroy?.();
  printTables(good, refused, ft, machine);
  for (const r of rows.filter((x) => x.error)) console.log(`FAILED ${r.file}: ${r.error}`);
  const json = {
    machine,
    settings: {
      batch: BATCH,
      import_runs: IMPORT_RUNS,
      timing: preset,
      tolerance_vs_ort_node: TOL,
      ort_web: { numThreads: 1, ...WEB_OPTIONS },
      ort_node: NODE_OPTIONS,
      fine_tune: ft && { model: FINE_TUNE_MODEL, train_images: nTrain, test_images: nTest, folder: ft.folder },
    },
    rows: rows.map((r) =>
      r.error
        ? r
        : {
            ...r,
            max_abs_diff_vs_ort_node: sig(r.max_abs_diff_vs_ort_node),
            max_abs_diff_vs_torch: sig(r.max_abs_diff_vs_torch),
            ort_node_vs_torch: sig(r.ort_node_vs_torch),
            ort_web_vs_ort_node: sig(r.ort_web_vs_ort_node),
            batch32_max_abs_diff_vs_ort_node: sig(r.batch32_max_abs_diff_vs_ort_node),
            import_ms_median: sig(r.import_ms_median, 4),
            import_ms_first: sig(r.import_ms_first, 4),
            predict_ms: Object.fromEntries(Object.entries(r.predict_ms).map(([k, v]) => [k, sig(v, 4)])),
            ratio_ours_over_ort_web: sig(r.ratio_ours_over_ort_web),
            ratio_ours_over_ort_node: sig(r.ratio_ours_over_ort_node),
          },
    ),
    refused: refused.map((r) => ({ file: r.file, opset: r.opset, op_types: r.op_types, ...r.refused })),
    fine_tune: ft && { write_pngs_s: sig(ft.write_pngs_s), rows: ft.rows },
  };
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return failed ? 1 : 0;
}
