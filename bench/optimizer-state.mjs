// The `optimizer-state` suite: 32-bit Adam against 8-bit Adam (block-wise dynamic quantisation, Dettmers et al.
// 2022) from the same seed on real MNIST, for backprop's MLP, NoProp-DT's MLP blocks and NoProp-DT's CNN blocks.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs optimizer-state [--quick] [--epochs N] [--limit N]
//
// Per row: optimizer-state bytes (the resident tensors: float32 slots 4 B a value; 8-bit slots one byte a value,
// rounded up to a word, plus one f32 absmax per 2 048), checked against the growth of the backend's bytes in use over
// the first step (when the state is created); the median training-step time (the intervals between train()'s
// progress calls, one thread); final test accuracy; then the 8-bit row against its 32-bit twin (ratio of bytes,
// difference in points). Settings: bench/learning-settings.mjs RULE_SETTINGS (backprop Adam, NoProp-DT AdamW), the
// 8-bit row the same with `adam8bit` / `adamw8bit`. Also the fused update alone on one 784×512 weight.
// Sizes (full): the MLPs on all 60 000 images for --epochs (default 1), test on 10 000; the CNN, 31 images/s on
// these cores, on the first 3 000 images for 1 epoch, tested on 2 000. --quick: 4 000 / 1 000 / 1 000 test.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lh from '../dist/index.js';
import { loadMnist } from '../dist/node.js';
import { machineInfo } from './machine.mjs';
import { NORMALIZATION, RULE_SETTINGS, SEED, DEFAULT_BATCH } from './learning-settings.mjs';
import { log, median, printTable, stateBytes, updateTimes } from './optimizer-state-measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILE = join(here, 'results', 'optimizer-state.json');

const EIGHT = { adam: 'adam8bit', adamw: 'adamw8bit' };

function sizes(quick, opts) {
  const mlpImages = opts.limit ?? (quick ? 4000 : 60000);
  return [
    { label: 'backprop MLP', rule: 'backprop', model: 'mlp', images: mlpImages, test: quick ? 1000 : 10000 },
    { label: 'NoProp-DT MLP', rule: 'noprop-dt', model: 'mlp', images: mlpImages, test: quick ? 1000 : 10000 },
    {
      label: 'NoProp-DT CNN',
      rule: 'noprop-dt',
      model: 'cnn',
      images: Math.min(mlpImages, quick ? 1000 : 3000),
      test: quick ? 1000 : 2000,
      epochs: 1,
    },
  ];
}

async function runOne(row, type, epochs, mnist) {
  const backend = await lh.createBackend('wasm', { threads: 1 });
  const s = RULE_SETTINGS[row.rule];
  const optimizer = { ...s.optimizer, type };
  const trainSet = lh.subset(mnist.train, 0, row.images),
    testSet = lh.subset(mnist.test, 0, row.test);
  const rule = lh.createRule(
    {
      rule: row.rule,
      model: row.model,
      inputShape: [...trainSet.shape],
      classes: trainSet.classes,
      optimizer,
      seed: SEED,
      ...(s.noprop ? { noprop: s.noprop } : {}),
    },
    backend,
  );
  const steps = Math.ceil(trainSet.count / DEFAULT_BATCH);
  const before = backend.memory().bytesInUse;
  let firstStepGrowth = null,
    last = null;
  const intervals = [];
  try {
    const { epochs: reports } = await lh.train(rule, trainSet, testSet, {
      epochs,
      batchSize: DEFAULT_BATCH,
      seed: SEED,
      lr: optimizer.lr,
      schedule: { type: 'cosine', totalSteps: epochs * steps },
      normalization: NORMALIZATION,
      yieldEvery: 1 << 30,
      onProgress: () => {
        const now = performance.now();
        if (firstStepGrowth === null) firstStepGrowth = backend.memory().bytesInUse - before;
        else intervals.push(now - last);
        last = now;
      },
      onEpoch: (e) => {
        last = null; // the test pass is not a step
        log(`${row.label} ${type} epoch ${e.epoch + 1}/${epochs}: test ${(e.testAccuracy * 100).toFixed(2)}%`);
      },
    });
    const slots = {};
    // slot names repeat across groups (NoProp's blocks): key them by group
    for (const g of rule.groups())
      for (const [k, v] of Object.entries((await rule.saveGroup(g.name)).optimizer.slots)) slots[`${g.name}/${k}`] = v;
    return {
      optimizer: type,
      stateBytes: stateBytes(slots),
      firstStepGrowthBytes: firstStepGrowth,
      params: [...rule.params().values()].reduce((n, t) => n + t.size, 0),
      medianStepMs: median(intervals.filter((x) => x != null && !Number.isNaN(x))),
      testAccuracy: reports.at(-1).testAccuracy,
      epochs: reports.map((e) => ({ epoch: e.epoch, testAccuracy: e.testAccuracy, trainLoss: e.trainLoss })),
    };
  } finally {
    rule.dispose();
    backend.destroy?.();
  }
}

export async function runSuite(opts = {}) {
  const quick = !!opts.quick;
  const epochs = opts.epochs ?? 1;
  const mnist = await loadMnist();
  const rows = [];
  for (const row of sizes(quick, opts)) {
    const base = RULE_SETTINGS[row.rule].optimizer.type;
    const e = row.epochs ?? epochs;
    log(`${row.label}: ${row.images} images × ${e} epoch(s), test ${row.test}; ${base} vs ${EIGHT[base]}`);
    const full = await runOne(row, base, e, mnist);
    const eight = await runOne(row, EIGHT[base], e, mnist);
    rows.push({
      model: row.label,
      trainImages: row.images,
      testImages: row.test,
      epochs: e,
      full,
      eight,
      bytesRatio: eight.stateBytes / full.stateBytes,
      accuracyDiffPoints: (eight.testAccuracy - full.testAccuracy) * 100,
      stepTimeRatio: eight.medianStepMs / full.medianStepMs,
    });
  }
  const update = await updateTimes(quick);
  const notes = [
    'wasm-relaxed, one thread; the same seed, data order and schedule (cosine to 0) for both optimizers of a row',
    'state bytes: resident optimizer tensors; 8-bit: codes (1 B/value) + one f32 absmax per 2 048 values per ' +
      'state; tensors under 4 096 values (biases) keep float32 state, as bitsandbytes does',
    `MLP rows: ${rows[0].trainImages} training images; CNN row: ${rows[2].trainImages} images, 1 epoch ` +
      '(NoProp-DT CNN trains at ~30 images/s here)',
  ];
  printTable(rows, update, notes);
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        suite: 'optimizer-state',
        date: new Date().toISOString(),
        quick,
        machine: machineInfo(),
        targets: { bytesRatio: 0.26, accuracyDiffPoints: 0.2 },
        rows,
        update,
        notes,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${out}`);
  return 0;
}
