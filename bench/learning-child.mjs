// One training run of the `learning` suite, in its own process (forked by bench/learning.mjs), so that
// its peak RSS (process.resourceUsage().maxRSS) and its wasm heaps belong to that run alone.
// Job (argv[2], JSON): { rule, model, epochs, batch, trainImages, testImages, seed, normalization, settings,
//   dataset?: 'mnist' (default) | 'fashion-mnist', layers?: LayerSpec[] (instead of modelSpec(model)) }.
// Messages to the parent: { type: 'epoch', report } per epoch, then one of
//   { type: 'done', result }  { type: 'skipped', reason }  { type: 'failed', error }.
import * as lh from '../dist/index.js';
import { loadMnist, useNodeWebGpu } from '../dist/node.js';
import { TFJS } from './learning-settings.mjs';
import { loadFashionMnist } from './fashion-mnist.mjs';

const job = JSON.parse(process.argv[2]);
const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()));
const mb = (bytes) => bytes / 2 ** 20;
const rssMb = () => mb(process.memoryUsage().rss);
const peakRssMb = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB

function errText(e) {
  const msg = e instanceof Error ? e.message : String(e); // a LayerhiveError's message ends with its hint
  return msg.split('\n')[0].slice(0, 300);
}

// createRule refuses a rule it does not have yet with INVALID_ARGUMENT "… is not available yet".
function isUnavailable(e) {
  return e && e.code === 'INVALID_ARGUMENT' && /not available/i.test(String(e.message));
}

async function data() {
  const all = job.dataset === 'fashion-mnist' ? loadFashionMnist() : await loadMnist();
  return {
    trainSet: lh.subset(all.train, 0, Math.min(job.trainImages, all.train.count)),
    testSet: lh.subset(all.test, 0, Math.min(job.testImages, all.test.count)),
  };
}

async function runLayerhive() {
  if (!lh.ruleNames.includes(job.rule))
    return send({ type: 'skipped', reason: `'${job.rule}' is not a rule of this build (${lh.ruleNames.join(', ')})` });
  if (job.backend === 'webgpu') await useNodeWebGpu();
  // one thread, as the tfjs reference has (the scaling suite measures 2 threads)
  const backend = await lh.createBackend(job.backend ?? 'wasm', { threads: 1 });
  const caps = backend.capabilities?.() ?? {};
  const flavour =
    backend.name === 'webgpu'
      ? `webgpu: ${caps.adapter}${caps.fallbackAdapter ? ' (SOFTWARE adapter: says nothing about GPU speed)' : ''}`
      : caps.relaxedSimd
        ? 'wasm-relaxed'
        : 'wasm-simd';
  const { trainSet, testSet } = await data();
  const s = job.settings;
  const config = {
    rule: job.rule,
    model: job.model,
    ...(job.layers ? { layers: job.layers } : {}),
    inputShape: [...trainSet.shape],
    classes: trainSet.classes,
    optimizer: s.optimizer,
    seed: job.seed,
    ...(s.tpsgd ? { tpsgd: s.tpsgd } : {}),
    ...(s.noprop ? { noprop: s.noprop } : {}),
    ...(s.frozenLayers !== undefined ? { frozenLayers: s.frozenLayers } : {}),
  };
  let rule;
  try {
    rule = lh.createRule(config, backend);
  } catch (e) {
    if (isUnavailable(e)) return send({ type: 'skipped', reason: errText(e) });
    throw e;
  }
  const steps = Math.ceil(trainSet.count / job.batch);
  const rssStart = rssMb();
  // Peak tensor memory: of the whole train() call (steps and the test pass after each epoch), and of one training
  // step alone: the heap's peak is read and reset after every step (onProgress) and after each epoch's test pass
  // (onEpoch), so the next reading covers the next step only — its batch, forward, backward/local updates.
  // Resident: what stays allocated between steps (parameters, optimizer state, projections); the working
  // memory of a step is its peak above that — the activations, gradients and temporaries the rule needs.
  let stepPeak = 0,
    resident = 0,
    wholePeak = 0;
  backend.resetPeak();
  try {
    const { epochs } = await lh.train(rule, trainSet, testSet, {
      epochs: job.epochs,
      batchSize: job.batch,
      seed: job.seed,
      lr: s.optimizer.lr,
      schedule: { type: 'cosine', totalSteps: job.epochs * steps },
      normalization: job.normalization,
      onProgress: () => {
        const m = backend.memory();
        stepPeak = Math.max(stepPeak, m.peakBytesInUse);
        wholePeak = Math.max(wholePeak, m.peakBytesInUse);
        resident = Math.max(resident, m.bytesInUse);
        backend.resetPeak();
      },
      onEpoch: (r) => {
        wholePeak = Math.max(wholePeak, backend.memory().peakBytesInUse); // the test pass
        backend.resetPeak();
        process.send({ type: 'epoch', report: r });
      },
    });
    const mem = backend.memory();
    return send({
      type: 'done',
      result: {
        impl: `layerhive-${backend.name}`,
        flavour,
        epochs,
        peakTensorBytes: Math.max(wholePeak, mem.peakBytesInUse),
        stepPeakTensorBytes: stepPeak,
        residentTensorBytes: resident,
        heapReservedMb: mb(mem.bytesReserved),
        params: [...rule.params().values()].reduce((n, t) => n + t.size, 0),
        rssStartMb: rssStart,
        peakRssMb: peakRssMb(),
        steps: job.epochs * steps,
      },
    });
  } finally {
    rule.dispose();
  }
}

async function runTfjs() {
  if (job.model !== 'mlp')
    return send({ type: 'skipped', reason: `the tfjs reference is the MLP only (--model ${job.model})` });
  const { trainTfjsMlp } = await import('./peers/tfjs-train.mjs');
  const { trainSet, testSet } = await data();
  const rssStart = rssMb();
  const r = await trainTfjsMlp(trainSet, testSet, {
    epochs: job.epochs,
    batchSize: job.batch,
    lr: job.settings.optimizer.lr,
    epsilon: job.settings.optimizer.epsilon,
    normalization: job.normalization,
    seed: job.seed,
    onEpoch: (report) => process.send({ type: 'epoch', report }),
  });
  return send({
    type: 'done',
    result: {
      impl: 'tfjs-wasm',
      flavour: `tfjs-core ${r.version} / ${r.backend}`,
      epochs: r.epochs,
      peakTensorBytes: r.peakTensorBytes,
      stepPeakTensorBytes: r.peakTensorBytes,
      params: 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10,
      rssStartMb: rssStart,
      peakRssMb: peakRssMb(),
      steps: job.epochs * Math.ceil(trainSet.count / job.batch),
    },
  });
}

try {
  await (job.rule === TFJS ? runTfjs() : runLayerhive());
} catch (e) {
  await send({ type: 'failed', error: errText(e) });
  if (process.env.LAYERHIVE_BENCH_DEBUG) console.error(e);
}
process.disconnect?.();
