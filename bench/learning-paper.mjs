// `learning --setup paper`: the MNIST and Fashion-MNIST rows of tpSGD's paper (PAPER_SETUPS in
// bench/learning-settings.mjs, sources in bench/learning-paper.md), each trained by backprop and by tpSGD at equal
// epochs on the same network, one child process per run (bench/learning-child.mjs), beside the paper's figures.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs learning --setup paper [--model mlp,cnn,rnn,gru]
//        [--dataset mnist|fashion-mnist] [--epochs N] [--limit N] [--batch B] [--quick] [--out FILE]
//
// --epochs overrides every row's epochs (both rules alike); --quick: 4 000 / 1 000 images, 1 epoch. A row whose model
// the library lacks (modelNames: 'rnn'/'gru' come with the recurrent layers) is a skipped row. Per run: accuracy per
// epoch, seconds, and tensor memory of one training step (peak, resident between steps, working = peak − resident),
// tpSGD's beside backprop's. Writes bench/results/learning-paper.json and .md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelNames } from '../dist/index.js';
import { machineInfo } from './machine.mjs';
import { log, round, runRow } from './learning-run.mjs';
import { paperMarkdown, printPaperTable } from './learning-table.mjs';
import { DATASETS, DATASET_NORMALIZATION, FULL, PAPER, PAPER_SETUPS, QUICK, SEED } from './learning-settings.mjs';

export const PAPER_RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'learning-paper.json');

const list = (v) =>
  v == null
    ? null
    : String(v)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

function selectSetups(opts) {
  const models = list(opts.model),
    datasets = list(opts.dataset);
  const known = new Set(PAPER_SETUPS.map((s) => s.model));
  const badModel = models?.find((m) => !known.has(m));
  if (badModel) return { error: `--setup paper has no --model "${badModel}"; models: ${[...known].join(', ')}` };
  const badData = datasets?.find((d) => !DATASETS.includes(d));
  if (badData) return { error: `unknown --dataset "${badData}"; datasets: ${DATASETS.join(', ')}` };
  return {
    setups: PAPER_SETUPS.filter(
      (s) => (!models || models.includes(s.model)) && (!datasets || datasets.includes(s.dataset)),
    ),
  };
}

/** Each tpSGD run − backprop per (dataset, model): accuracy in points, one step's tensor memory as ratios. */
function comparisons(rows) {
  const out = [];
  for (const setup of PAPER_SETUPS) {
    const mine = rows.filter((r) => r.dataset === setup.dataset && r.model === setup.model && r.epochs.length);
    const bp = mine.find((r) => r.label === 'backprop');
    if (!bp) continue;
    for (const tp of mine.filter((r) => r.rule === 'tpsgd')) {
      const p = setup.paper;
      const paperGap = p[tp.label] != null && p.backprop != null ? (p[tp.label] - p.backprop) * 100 : null;
      out.push({
        dataset: setup.dataset,
        model: setup.model,
        label: tp.label,
        epochs: tp.epochs.length,
        tpsgd_minus_backprop_pp: round((tp.test_accuracy - bp.test_accuracy) * 100, 4),
        paper_tpsgd_minus_backprop_pp: paperGap == null ? null : round(paperGap, 4),
        target_gap_pp: paperGap == null ? -PAPER.claimGapPoints : Math.min(paperGap, 0),
        step_peak_vs_backprop: round(tp.peak_step_tensor_mb / bp.peak_step_tensor_mb, 4),
        step_working_vs_backprop: round(tp.step_working_tensor_mb / bp.step_working_tensor_mb, 4),
      });
    }
  }
  for (const c of out) c.target_met = c.tpsgd_minus_backprop_pp >= c.target_gap_pp;
  return out;
}

export async function runPaper(opts = {}) {
  const sel = selectSetups(opts);
  if (sel.error) {
    console.error(`learning: ${sel.error}`);
    return 2;
  }
  const base = opts.quick ? QUICK : FULL;
  const trainImages = Math.min(opts.limit ?? (opts.quick ? QUICK.trainImages : 60000), 60000);
  const testImages = base.testImages;
  const t0 = performance.now();
  const rows = [];
  for (const setup of sel.setups) {
    const epochs = opts.epochs ?? (opts.quick ? QUICK.epochs : setup.epochs);
    const batch = opts.batch ?? setup.batch;
    const lead = { dataset: setup.dataset, model: setup.model, arch: setup.arch, impl: 'layerhive-wasm' };
    for (const run of setup.runs) {
      const { label, rule, ...settings } = run;
      const name = `${label} ${setup.dataset} ${setup.model}`;
      if (!modelNames.includes(setup.model)) {
        const reason = `model '${setup.model}' is not in this build's modelNames (${modelNames.join(', ')})`;
        log(`${name}: skipped (${reason})`);
        rows.push({ ...lead, label, rule, skipped: reason, epochs: [], test_accuracy: null });
        continue;
      }
      const job = {
        rule,
        model: setup.model,
        ...(setup.layers ? { layers: setup.layers } : {}),
        dataset: setup.dataset,
        epochs,
        batch,
        trainImages,
        testImages,
        seed: SEED,
        normalization: DATASET_NORMALIZATION[setup.dataset],
        settings,
        backend: 'wasm',
      };
      rows.push(await runRow(job, { ...lead, label, rule }, name));
    }
  }
  const result = {
    machine: machineInfo({ suite: 'learning-paper', quick: !!opts.quick }),
    settings: {
      setup: 'paper',
      paper: PAPER,
      train_images: trainImages,
      test_images: testImages,
      seed: SEED,
      backend: "layerhive createBackend('wasm', { threads: 1 })",
      schedule: 'cosine decay to 0 over the run, every row and rule',
      epochs_override: opts.epochs ?? null,
      setups: sel.setups,
      step_memory:
        "tensor bytes of one training step: the wasm heap's peak, read and reset after every step (and after each " +
        'test pass); resident = bytes in use between steps (weights, optimizer state, projections); working = peak − ' +
        'resident',
    },
    rows,
    comparisons: comparisons(rows),
  };
  printPaperTable(result);
  const outFile = opts.out ?? PAPER_RESULTS_FILE;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  const mdFile = `${outFile.replace(/\.json$/, '')}.md`;
  writeFileSync(mdFile, paperMarkdown(result));
  console.log(`\nwrote ${outFile} and ${mdFile} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const failed = rows.filter((r) => r.error);
  if (failed.length) {
    console.error(`learning: ${failed.length} run(s) failed: ${failed.map((r) => `${r.label} ${r.model}`).join(', ')}`);
    return 1;
  }
  return 0;
}
