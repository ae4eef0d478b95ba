// The `explain` suite: milliseconds per MNIST image for the attribution methods, in the calling thread and
// spread over 1 and 2 stage workers; then the BlockMNIST localisation table — the share of each method's
// top-100 attributions inside the digit block, for models trained by backprop, tpSGD and NoProp.
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs explain [--quick]
//
// Timing model: the MNIST CNN (backprop, one epoch on 2 048 images). Each method runs on N test images
// (quick 3, full 10) after one untimed warm-up; the median is reported. BlockMNIST: each model trained (cosine
// schedule) for 1 (quick) / 3 epochs on the first 2 000 / 10 000 BlockMNIST training images, localisation over
// 20 / 100 test images.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import * as lh from '../dist/index.js';
import { loadMnist, nodeSpawner, stageWorkerUrl } from '../dist/node.js';
import { machineInfo } from './machine.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'explain.json');
const log = (m) => process.stderr.write(`[explain] ${m}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TIMED = [
  ['IG-64', { method: 'integrated-gradients', samples: 64 }],
  ['SmoothGrad-50', { method: 'smoothgrad', samples: 50 }],
  ['occlusion 4×4', { method: 'occlusion', window: [4, 4], stride: [4, 4] }],
  ['KernelSHAP-2048', { method: 'kernel-shap', samples: 2048 }],
  ['LIME-1000', { method: 'lime', samples: 1000 }],
  ['Grad-CAM', { method: 'grad-cam' }],
];

async function trained(backend, config, data, n, epochs = 1) {
  const rule = lh.createRule(config, backend);
  const r = await lh.train(rule, lh.subset(data.train, 0, n), lh.subset(data.test, 0, 1000), {
    epochs,
    batchSize: 32,
    seed: 1,
    lr: config.optimizer.lr,
    schedule: { type: 'cosine', totalSteps: epochs * Math.ceil(n / 32) },
  });
  return { rule, accuracy: r.epochs.at(-1).testAccuracy };
}

/** Milliseconds per image of each timed method, in-thread and over 1 and 2 workers. */
async function timeMethods({ backend, mnist, quick, cnn, base }) {
  const timing = [];
  log('training the timing model (backprop CNN, 2 048 images)…');
  const { rule } = await trained(backend, cnn, mnist, 2048);
  const images = Array.from({ length: quick ? 3 : 10 }, (_, i) =>
    lh.normalizePixels(mnist.test.images.subarray(i * 784, (i + 1) * 784)),
  );
  const spawn = nodeSpawner(stageWorkerUrl);
  for (const workers of [0, 1, 2]) {
    const model = workers ? await lh.parallelExplainable(cnn, rule, { workers, spawn }) : rule;
    for (const [name, o] of TIMED) {
      await lh.explain(model, images[0], { ...o, baseline: base });
      const ms = [];
      let calls = 0;
      for (const x of images) {
        const t0 = performance.now();
        calls = (await lh.explain(model, x, { ...o, baseline: base })).modelCalls;
        ms.push(performance.now() - t0);
      }
      timing.push({ method: name, workers, ms_per_image: median(ms), model_calls: calls });
      log(`${name}, ${workers ? `${workers} worker(s)` : 'in-thread'}: ${median(ms).toFixed(1)} ms/image`);
    }
    if (workers) await model.close();
  }
  rule.dispose();
  return timing;
}

/** Localisation on BlockMNIST of each method for models trained by backprop, tpSGD and NoProp. */
async function localisationTable({ backend, mnist, quick, cnn }) {
  const block = { train: lh.blockMnist(mnist.train, { seed: 1 }), test: lh.blockMnist(mnist.test, { seed: 2 }) };
  const bdata = { train: block.train.dataset, test: block.test.dataset };
  const nTrain = quick ? 2000 : 10000,
    nLoc = quick ? 20 : 100,
    blockEpochs = quick ? 1 : 3;
  const shape = [1, 56, 28],
    bbase = lh.normalizePixels(new Uint8Array(56 * 28));
  const models = [
    [
      'backprop CNN',
      { ...cnn, inputShape: shape, optimizer: { type: 'adam', lr: 1e-3 } },
      ['saliency', 'integrated-gradients', 'smoothgrad', 'occlusion', 'kernel-shap', 'grad-cam'],
    ],
    [
      'tpSGD CNN',
      { ...cnn, rule: 'tpsgd', inputShape: shape, optimizer: { type: 'adam', lr: 5e-3 } },
      ['saliency', 'integrated-gradients', 'smoothgrad', 'occlusion', 'kernel-shap', 'grad-cam'],
    ],
    [
      'NoProp-DT (MLP blocks)',
      {
        rule: 'noprop-dt',
        model: 'mlp',
        inputShape: shape,
        classes: 10,
        seed: 1,
        optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
        noprop: { T: 10 },
      },
      ['occlusion', 'kernel-shap', 'lime', 'rise'],
    ],
  ];
  const localisationRows = [];
  for (const [name, config, methods] of models) {
    log(`BlockMNIST: training ${name} on ${nTrain} images, ${blockEpochs} epoch(s)…`);
    const m = await trained(backend, config, bdata, nTrain, blockEpochs);
    const ex = lh.fromRule(m.rule, shape, 10);
    const row = { model: name, test_accuracy: m.accuracy, localisation: {} };
    for (const method of methods) {
      const scores = [];
      for (let i = 0; i < nLoc; i++) {
        const x = lh.normalizePixels(bdata.test.images.subarray(i * 56 * 28, (i + 1) * 56 * 28));
        const a = await lh.explain(ex, x, {
          method,
          baseline: bbase,
          target: bdata.test.labels[i],
          samples: method === 'kernel-shap' ? 512 : method === 'lime' || method === 'rise' ? 500 : undefined,
        });
        scores.push(lh.localisation(a, block.test.digitOnTop[i] === 1));
      }
      row.localisation[method] = scores.reduce((s, v) => s + v, 0) / scores.length;
      log(`${name} ${method}: localisation ${row.localisation[method].toFixed(3)}`);
    }
    localisationRows.push(row);
    m.rule.dispose();
  }
  return localisationRows;
}

export async function runSuite(opts) {
  const quick = !!opts.quick;
  if (opts.part && !['timing', 'blockmnist'].includes(opts.part)) {
    console.error(`explain: unknown --part "${opts.part}"; parts: timing, blockmnist`);
    return 2;
  }
  const doTiming = opts.part !== 'blockmnist',
    doBlock = opts.part !== 'timing';
  const backend = await lh.createBackend('wasm', { threads: 1 }); // beside peers and earlier figures: one thread
  const mnist = await loadMnist();
  const ctx = {
    backend,
    mnist,
    quick,
    cnn: {
      rule: 'backprop',
      model: 'cnn',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 1,
      optimizer: { type: 'adam', lr: 2e-3 },
    },
    base: lh.normalizePixels(new Uint8Array(784)),
  };
  const timing = doTiming ? await timeMethods(ctx) : [];
  const localisationRows = doBlock ? await localisationTable(ctx) : [];
  if (doTiming) {
    const t1 = new Table({ head: ['method', 'in-thread ms/image', '1 worker', '2 workers', '2 ÷ 1', 'model calls'] });
    for (const [name] of TIMED) {
      const r = (w) => timing.find((t) => t.method === name && t.workers === w);
      t1.push([
        name,
        r(0).ms_per_image.toFixed(1),
        r(1).ms_per_image.toFixed(1),
        r(2).ms_per_image.toFixed(1),
        `${(r(1).ms_per_image / r(2).ms_per_image).toFixed(2)}×`,
        r(0).model_calls,
      ]);
    }
    console.log(t1.toString());
  }
  if (doBlock) {
    const allMethods = [...new Set(localisationRows.flatMap((r) => Object.keys(r.localisation)))];
    const t2 = new Table({ head: ['BlockMNIST model', 'test acc', ...allMethods] });
    for (const r of localisationRows)
      t2.push([
        r.model,
        `${(100 * r.test_accuracy).toFixed(1)}%`,
        ...allMethods.map((m) => (r.localisation[m] === undefined ? '-' : r.localisation[m].toFixed(3))),
      ]);
    console.log(t2.toString());
    console.log(
      'localisation: share of the top-100 |attribution| pixels inside the digit block (0.5 = no preference).',
    );
  }
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        suite: 'explain',
        machine: machineInfo(),
        settings: {
          quick,
          part: opts.part ?? 'all',
          timing_images: quick ? 3 : 10,
          blockmnist_train: quick ? 2000 : 10000,
          blockmnist_epochs: quick ? 1 : 3,
          blockmnist_localisation_images: quick ? 20 : 100,
        },
        timing,
        localisation: localisationRows,
      },
      null,
      2,
    ),
  );
  log(`wrote ${out}`);
  return 0;
}
