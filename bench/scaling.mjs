// The `scaling` suite: samples/s of training and of pipelined inference over 1, 2 and 3 stage workers
// (worker_threads running dist/stage.worker.js), with the bytes moved between workers per sample and
// each worker's peak tensor memory.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs scaling [--quick] [--limit N] [--batch B] [--workers 1,2,3]
//
// Training rows: layerhive trainParallel() for one epoch over the first N MNIST images (the test pass is
// not timed), after a warm-up chunk that is not timed either; in-thread rows (workers 0) are train() with
// no workers, for what the pool itself costs. Inference rows: PipelinedModel.predict over N images in
// micro-batches, median of 5 passes. Speed-ups are against the 1-worker row of the same run. This host has
// 2 cores: 3 workers oversubscribe it, and the coordinator thread shares the cores too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import * as lh from '../dist/index.js';
import { loadMnist, nodeSpawner, stageWorkerUrl } from '../dist/node.js';
import { machineInfo } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'scaling.json');
const spawn = nodeSpawner(stageWorkerUrl);
const log = (m) => process.stderr.write(`[scaling] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = {
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 1,
  optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
};
const TRAIN = [
  { name: 'noprop-dt', config: { ...base, rule: 'noprop-dt', model: 'mlp', noprop: { T: 10 } } },
  { name: 'tpsgd', config: { ...base, rule: 'tpsgd', model: 'mlp' } },
  { name: 'backprop', config: { ...base, rule: 'backprop', model: 'mlp' } },
];

async function trainRow(job, workers, sets, o) {
  const options = { epochs: 1, batchSize: o.batch, seed: 3, lr: 1e-3, syncEvery: o.syncEvery, microBatches: 4 };
  if (workers === 0) {
    const backend = await lh.createBackend('wasm');
    const rule = lh.createRule(job.config, backend);
    const { epochs } = await lh.train(rule, sets.train, sets.test, options);
    rule.dispose();
    return { samples_per_s: epochs[0].samplesPerSecond, test_accuracy: epochs[0].testAccuracy };
  }
  const { rule, report } = await lh.trainParallel(job.config, sets.train, sets.test, { ...options, workers, spawn });
  rule.dispose();
  const e = report.epochs[0];
  return {
    samples_per_s: e.samplesPerSecond,
    test_accuracy: e.testAccuracy,
    stage_bytes_per_sample: report.stageBytesPerSample,
    sync_bytes_per_sample: report.syncBytes / sets.train.count,
    worker_peak_tensor_mb: report.workers.map((w) => w.peakTensorBytes / 2 ** 20),
    plan: report.plan.stages.map((s) => s.groups.join('+')).join(' | '),
  };
}

async function inferenceRow(model, workers, x, n, micro) {
  const backend = await lh.createBackend('wasm');
  const config = { ...base, rule: 'backprop', model };
  const rule = lh.createRule(config, backend);
  try {
    if (workers === 0) {
      const xt = lh.tensor(x, [n, 1, 28, 28], 'float32', backend);
      const times = [];
      for (let r = 0; r < 6; r++) {
        const t0 = performance.now();
        for (let s = 0; s < n; s += micro)
          lh.tidy(() => rule.predict(lh.slice(xt, 0, s, Math.min(micro, n - s))).dataSync());
        if (r > 0) times.push(performance.now() - t0);
      }
      xt.dispose();
      return { samples_per_s: n / (median(times) / 1000) };
    }
    const m = await lh.PipelinedModel.create(config, rule, { workers, spawn });
    try {
      const times = [];
      for (let r = 0; r < 6; r++) {
        const t0 = performance.now();
        await m.predict(x, [n, 1, 28, 28], micro);
        if (r > 0) times.push(performance.now() - t0);
      }
      const stats = await m.stats();
      const bytes = stats.reduce((s, w) => s + w.bytesSent, 0);
      return {
        samples_per_s: n / (median(times) / 1000),
        stage_bytes_per_sample: bytes / (6 * n),
        worker_peak_tensor_mb: stats.map((w) => w.peakTensorBytes / 2 ** 20),
        plan: m.plan.stages.map((s) => s.groups.join('+')).join(' | '),
      };
    } finally {
      await m.close();
    }
  } finally {
    rule.dispose();
  }
}

export async function runSuite(opts) {
  const quick = !!opts.quick;
  const limit = opts.limit ?? (quick ? 1920 : 9600);
  const batch = opts.batch ?? 64;
  const workerCounts = (opts.workers ?? '1,2,3').split(',').map(Number);
  const mnist = await loadMnist();
  const sets = { train: lh.subset(mnist.train, 0, limit), test: lh.subset(mnist.test, 0, 1000) };
  const o = { batch, syncEvery: 100 };
  const rows = [];
  for (const job of TRAIN) {
    for (const w of [0, ...workerCounts]) {
      log(`${job.name} training, ${w === 0 ? 'in-thread' : `${w} worker(s)`}…`);
      rows.push({ kind: 'train', rule: job.name, model: 'mlp', workers: w, ...(await trainRow(job, w, sets, o)) });
    }
  }
  const n = quick ? 1024 : 4096,
    micro = 64;
  const x = lh.normalizePixels(mnist.test.images.subarray(0, n * 784));
  for (const model of ['mlp', 'cnn']) {
    for (const w of [0, ...workerCounts]) {
      log(`pipelined inference (${model}), ${w === 0 ? 'in-thread' : `${w} worker(s)`}…`);
      const m = model === 'cnn' ? n / 4 : n;
      rows.push({
        kind: 'inference',
        rule: 'predict',
        model,
        workers: w,
        ...(await inferenceRow(model, w, x.subarray(0, m * 784), m, micro)),
      });
    }
  }
  for (const r of rows) {
    const one = rows.find((q) => q.kind === r.kind && q.rule === r.rule && q.model === r.model && q.workers === 1);
    r.speedup_vs_1 = r.workers > 0 && one ? r.samples_per_s / one.samples_per_s : null;
  }
  const traffic = (rule) =>
    rows.find((r) => r.kind === 'train' && r.rule === rule && r.workers === 2)?.stage_bytes_per_sample;
  const ratios = {
    stage_bytes_vs_backprop_2_workers: {
      'noprop-dt': traffic('noprop-dt') / traffic('backprop'),
      tpsgd: traffic('tpsgd') / traffic('backprop'),
    },
  };
  const table = new Table({
    head: [
      'what',
      'model',
      'workers',
      'samples/s',
      'speed-up vs 1',
      'B/sample between workers',
      'sync B/sample',
      'peak tensor MB per worker',
      'placement',
    ],
  });
  const f = (x, d = 0) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(d));
  for (const r of rows) {
    table.push([
      `${r.kind === 'train' ? `train ${r.rule}` : 'pipelined inference'}`,
      r.model,
      r.workers === 0 ? 'in-thread' : r.workers,
      f(r.samples_per_s),
      r.speedup_vs_1 == null ? '-' : `${r.speedup_vs_1.toFixed(2)}×`,
      f(r.stage_bytes_per_sample),
      f(r.sync_bytes_per_sample),
      r.worker_peak_tensor_mb ? r.worker_peak_tensor_mb.map((m) => m.toFixed(1)).join(' / ') : '-',
      r.plan ?? '-',
    ]);
  }
  console.log(table.toString());
  console.log(
    `traffic between workers ÷ backprop's (2 workers): ` +
      `noprop-dt ${f(ratios.stage_bytes_vs_backprop_2_workers['noprop-dt'], 2)}, ` +
      `tpsgd ${f(ratios.stage_bytes_vs_backprop_2_workers.tpsgd, 2)}`,
  );
  console.log('3 workers oversubscribe this 2-core machine (the coordinator thread shares the cores as well).');
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        suite: 'scaling',
        machine: machineInfo(),
        settings: { limit, batch, sync_every: o.syncEvery, inference_images: n, micro_batch: micro },
        rows,
        ratios,
      },
      null,
      2,
    ),
  );
  log(`wrote ${out}`);
  return 0;
}
