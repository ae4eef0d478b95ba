// The `explain-batch` suite: milliseconds per MNIST image when 32 images are explained in one batch
// (`explain(model, images, …)`: their model calls go together, `batchSize` 64 inputs a call) against one image at a
// time, for IG-64, SmoothGrad-50, occlusion (4×4 windows) and KernelSHAP-512, in the calling thread and over 2
// stage workers; one run of each, after one untimed warm-up call per method and placement.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs explain-batch [--quick] [--out FILE]
//
// The model is the MNIST CNN (backprop, seeded, untrained: the weights do not change the cost); --quick uses 8 images.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import * as lh from '../dist/index.js';
import { loadMnist, nodeSpawner, stageWorkerUrl } from '../dist/node.js';
import { machineInfo } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'explain-batch.json');
const log = (m) => process.stderr.write(`[explain-batch] ${m}\n`);
const METHODS = [
  ['IG-64', { method: 'integrated-gradients', steps: 64 }],
  ['SmoothGrad-50', { method: 'smoothgrad', noiseSamples: 50 }],
  ['occlusion 4×4', { method: 'occlusion', window: 4 }],
  ['KernelSHAP-512', { method: 'kernel-shap', nSamples: 512 }],
];

export async function runSuite(opts) {
  const n = opts.quick ? 8 : 32;
  const backend = await lh.createBackend('wasm', { threads: 1 }); // beside peers and earlier figures: one thread
  const mnist = await loadMnist();
  const config = {
    rule: 'backprop',
    model: 'cnn',
    inputShape: [1, 28, 28],
    classes: 10,
    seed: 1,
    optimizer: { type: 'adam', lr: 2e-3 },
  };
  const rule = lh.createRule(config, backend);
  const images = Array.from({ length: n }, (_, i) =>
    lh.normalizePixels(mnist.test.images.subarray(i * 784, (i + 1) * 784)),
  );
  const baseline = lh.normalizePixels(new Uint8Array(784));
  const spawn = nodeSpawner(stageWorkerUrl);
  const rows = [];
  for (const workers of [0, 2]) {
    const model = workers ? await lh.parallelExplainable(config, rule, { workers, spawn }) : rule;
    try {
      for (const [name, o] of METHODS) {
        const opt = { ...o, baseline };
        await lh.explain(model, images[0], opt);
        let t0 = performance.now(),
          calls = 0;
        for (const x of images) calls += (await lh.explain(model, x, opt)).modelCalls;
        const single = (performance.now() - t0) / n;
        t0 = performance.now();
        const batched = await lh.explain(model, images, opt);
        const batch = (performance.now() - t0) / n;
        rows.push({
          method: name,
          workers,
          images: n,
          one_at_a_time_ms_per_image: single,
          batch_ms_per_image: batch,
          speedup: single / batch,
          model_calls_per_image_alone: calls / n,
          model_calls_per_image_batched: batched[0].modelCalls,
        });
        const where = workers ? `${workers} workers` : 'in-thread';
        log(`${name}, ${where}: ${single.toFixed(1)} ms/image alone, ${batch.toFixed(1)} in a batch of ${n}`);
      }
    } finally {
      if (workers) await model.close();
    }
  }
  rule.dispose();
  const table = new Table({
    head: ['method', 'placement', 'one at a time ms/image', `batch of ${n} ms/image`, 'speed-up', 'calls/image'],
  });
  for (const r of rows)
    table.push([
      r.method,
      r.workers ? `${r.workers} workers` : 'in-thread',
      r.one_at_a_time_ms_per_image.toFixed(1),
      r.batch_ms_per_image.toFixed(1),
      `${r.speedup.toFixed(2)}×`,
      `${r.model_calls_per_image_alone} / ${r.model_calls_per_image_batched.toFixed(1)}`,
    ]);
  console.log(table.toString());
  console.log('calls/image: model calls per image explained alone / in the batch (the baseline is scored once).');
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ suite: 'explain-batch', machine: machineInfo(), rows }, null, 2));
  log(`wrote ${out}`);
  return 0;
}
