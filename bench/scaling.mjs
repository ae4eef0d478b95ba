// The `scaling` suite: samples/s of training and of pipelined inference in the calling thread with 1 and 2
// intra-op threads and over 1, 2 and 3 stage workers (worker_threads running dist/stage.worker.js), with the bytes
// moved between workers per sample and each worker's peak tensor memory.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs scaling [--quick] [--limit N] [--batch B] [--workers 1,2,3]
//
// Training rows: train() in the calling thread on a wasm backend of 1 thread (one core: the reference of every
// speed-up) and of 2 threads, then trainParallel() over N workers, whose placement plan may give a stage 2 threads
// instead of a cut (`cores` = workers; the plan is in the row). One epoch over the first N MNIST images (CNN: N/4);
// the test pass is not timed. Inference rows: the same over PipelinedModel.predict, N images in micro-batches,
// median of 5 passes. This host has 2 cores: 3 workers oversubscribe it, and the coordinator thread shares them.
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
  { name: 'noprop-dt', config: { ...base, rule: 'noprop-dt', model: 'cnn', noprop: { T: 10 } } },
  { name: 'tpsgd', config: { ...base, rule: 'tpsgd', model: 'cnn' } },
  { name: 'backprop', config: { ...base, rule: 'backprop', model: 'cnn' } },
];
/** The calling thread's rows: 1 thread (one core) and 2 intra-op threads. */
const IN_THREAD = [
  { workers: 0, threads: 1 },
  { workers: 0, threads: 2 },
];
const where = (r) => (r.workers === 0 ? `in-thread, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : r.workers);

async function trainRow(job, { workers, threads }, sets, o) {
  const options = { epochs: 1, batchSize: o.batch, seed: 3, lr: 1e-3, syncEvery: o.syncEvery, microBatches: 4 };
  if (workers === 0) {
    const backend = await lh.createBackend('wasm', { threads });
    const rule = lh.createRule(job.config, backend);
    const { epochs } = await lh.train(rule, sets.train, sets.test, options);
    rule.dispose();
    backend.destroy();
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
    plan: planText(report.plan),
  };
}

/** Stages as `groups (threads)`, joined by ' | '. */
const planText = (plan) =>
  plan.stages.map((s) => `${s.groups.join('+')}${s.threads > 1 ? ` (${s.threads} threads)` : ''}`).join(' | ');

async function inferenceRow(model, { workers, threads }, x, n, micro) {
  const backend = await lh.createBackend('wasm', { threads });
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
      rule.dispose();
      backend.destroy();
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
        plan: planText(m.plan),
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
  const cnnSets = { train: lh.subset(mnist.train, 0, limit / 4), test: sets.test };
  const setups = [...IN_THREAD, ...workerCounts.map((workers) => ({ workers, threads: 1 }))];
  for (const job of TRAIN) {
    for (const at of setups) {
      const model = job.config.model;
      log(
        `${job.name} ${model} training, ${at.workers === 0 ? `in-thread ${at.threads}t` : `${at.workers} worker(s)`}…`,
      );
      const r = await trainRow(job, at, model === 'cnn' ? cnnSets : sets, o);
      rows.push({ kind: 'train', rule: job.name, model, ...at, ...r });
    }
  }
  const n = quick ? 1024 : 4096,
    micro = 64;
  const x = lh.normalizePixels(mnist.test.images.subarray(0, n * 784));
  for (const model of ['mlp', 'cnn']) {
    for (const at of setups) {
      log(
        `pipelined inference (${model}), ${at.workers === 0 ? `in-thread ${at.threads}t` : `${at.workers} worker(s)`}…`,
      );
      const m = model === 'cnn' ? n / 4 : n;
      rows.push({
        kind: 'inference',
        rule: 'predict',
        model,
        ...at,
        ...(await inferenceRow(model, at, x.subarray(0, m * 784), m, micro)),
      });
    }
  }
  for (const r of rows) {
    const one = rows.find(
      (q) => q.kind === r.kind && q.rule === r.rule && q.model === r.model && q.workers === 0 && q.threads === 1,
    );
    r.speedup_vs_one_core = one ? r.samples_per_s / one.samples_per_s : null;
  }
  const traffic = (rule) =>
    rows.find((r) => r.kind === 'train' && r.rule === rule && r.model === 'mlp' && r.workers === 2)
      ?.stage_bytes_per_sample;
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
      'vs one core',
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
      where(r),
      f(r.samples_per_s),
      r.speedup_vs_one_core == null ? '-' : `${r.speedup_vs_one_core.toFixed(2)}×`,
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
