import cliProgress from 'cli-progress';
import * as lh from '../index.js';
import { loadIdxDir, loadMnist, type TrainTest } from '../data/idx-file.js';
import { subset } from '../data/dataset.js';
import { isImageFolder, readImageFolder } from '../data/image-folder-file.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import { evaluate, train } from '../learn/trainer.js';
import { FsCheckpointStore } from '../store/fs-store.js';
import { captureCheckpoint, restoreRule } from '../store/checkpoint.js';
import type { Loaded } from '../store/store.js';
import type { Schedule } from '../learn/optim/index.js';
import type { LearningRule } from '../learn/rule.js';
import { readFile, writeFile } from 'node:fs/promises';
import { fail } from '../core/errors.js';
import { classPrototypes, type EmbeddingKind } from '../learn/noprop/embedding.js';
import type { ImageDataset } from '../data/dataset.js';
import { blockMnist } from '../explain/metrics/blockmnist.js';
import { trainParallel, type ParallelReport } from '../parallel/train-parallel.js';
import { nodeSpawner } from '../parallel/spawn-node.js';
import { WorkerPool } from '../parallel/pool.js';
import { formatPlan, makePlan, placementCosts } from '../parallel/placement.js';
import { useNodeWebGpu } from '../backend/webgpu/node-gpu.js';
import { exportOnnx } from '../onnx/export.js';
import { ruleFromOnnx } from '../onnx/import.js';
import { parallelismOf } from '../learn/create.js';
import { saveGroups } from '../learn/rule.js';
import { checkInitArgs, initSummary, ruleFromInit } from './init-model.js';

/** Which half holds the digit, for each image of a BlockMNIST split (see explain-eval). */
export const digitOnTop = new WeakMap<ImageDataset, Uint8Array>();

/** How an image folder given as `--data` is read (`--image-size`, `--channels`, `--skip-bad-images`). */
export interface ImageArgs {
  imageSize?: number;
  channels?: 1 | 3;
  skipBadImages?: boolean;
}

export async function loadData(
  data: string,
  limit?: number,
  images: ImageArgs = {},
): Promise<TrainTest & { classNames?: string[] }> {
  let d: TrainTest & { classNames?: string[] };
  if (data === 'blockmnist') {
    const m = await loadMnist();
    const [tr, te] = [blockMnist(m.train, { seed: 1 }), blockMnist(m.test, { seed: 2 })];
    digitOnTop.set(tr.dataset, tr.digitOnTop);
    digitOnTop.set(te.dataset, te.digitOnTop);
    d = { train: tr.dataset, test: te.dataset };
  } else if (data !== 'mnist' && (await isImageFolder(data))) d = await loadImages(data, images);
  else if (images.imageSize !== undefined || images.channels !== undefined || images.skipBadImages)
    fail(
      'INVALID_ARGUMENT',
      `--image-size, --channels and --skip-bad-images apply to an image folder, and ${data} is not one`,
      'pass a folder holding train/<class>/*.png|jpg, or leave these options out',
    );
  else d = data === 'mnist' ? await loadMnist() : await loadIdxDir(data);
  if (limit !== undefined) {
    if (!(Number.isInteger(limit) && limit > 0))
      fail('INVALID_ARGUMENT', `--limit ${limit} is not a positive integer`, 'pass a sample count such as 2000');
    return { ...d, train: subset(d.train, 0, Math.min(limit, d.train.count)) };
  }
  return d;
}

/** An image folder, with a summary (and the files left out by --skip-bad-images) on stderr. */
async function loadImages(dir: string, o: ImageArgs) {
  const r = await readImageFolder(dir, { size: o.imageSize, channels: o.channels, skipBadImages: o.skipBadImages });
  const [c, s] = r.train.shape;
  console.error(
    `${dir}: ${r.classNames.length} classes (${r.classNames.join(', ')}), ${r.train.count} training and ` +
      `${r.test.count} test images (${r.testFolder ? 'test/' : 'held out of train/ with seed 0'}), ` +
      `${c === 1 ? 'grey' : 'RGB'} ${s}×${s}`,
  );
  if (r.skipped.length > 0) {
    console.error(`skipped ${r.skipped.length} unreadable image(s):`);
    for (const x of r.skipped.slice(0, 10)) console.error(`  ${x.reason}`);
    if (r.skipped.length > 10) console.error(`  … and ${r.skipped.length - 10} more`);
  }
  return r;
}

/** The run's settings, stored in each checkpoint's meta so that `--resume` continues the same run. */
interface RunMeta {
  data: string;
  limit?: number;
  /** For an image folder: how it was read, and its class names (label i is classNames[i]). */
  images?: ImageArgs;
  classNames?: string[];
  batch: number;
  lr: number;
  seed: number;
  schedule: Schedule;
  epochs: number;
  epochsDone: number;
  testAccuracy: number;
  /** The ONNX file the run started from (`--init`); its frozen layers are in the config. */
  init?: string;
}

export interface TrainArgs {
  rule: RuleConfig['rule'];
  model: RuleConfig['model'];
  data: string;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  out?: string;
  resume?: string;
  keep: number;
  quantize: boolean;
  report?: string;
  limit?: number;
  imageSize?: number;
  channels?: 1 | 3;
  skipBadImages?: boolean;
  backend: string;
  optimizer: 'sgd' | 'adam' | 'adamw' | 'sgd8bit' | 'adam8bit' | 'adamw8bit';
  progress: boolean;
  schedule: 'constant' | 'cosine';
  localLoss: 'l2' | 'l1';
  blocks: number;
  embedding: EmbeddingKind;
  embedDim?: number;
  weighting: 'snr-derivative' | 'uniform';
  /** Train over this many stage workers (dist/stage.worker.js at `workerUrl`); in this thread when absent. */
  workers?: number;
  workerMemory?: number;
  /** 1: every stage one thread (only cuts); 'auto' (default): placement may give a stage 2+ threads, not a cut. */
  stageThreads?: 'auto' | 1;
  syncEvery: number;
  microBatches: number;
  workerUrl: URL;
  /** Start from this ONNX file's network and weights (see `ruleFromInit`). */
  init?: string;
  /** With `init`: freeze its first N layers, or all but the last trainable one. */
  freeze?: number;
  headOnly?: boolean;
}

type ConfigArgs = Pick<
  TrainArgs,
  'rule' | 'model' | 'seed' | 'optimizer' | 'lr' | 'localLoss' | 'blocks' | 'embedding' | 'embedDim' | 'weighting'
>;

/** The rule's JSON config from the command line (stored in checkpoints). */
export function ruleConfig(a: ConfigArgs, trainSet: ImageDataset): RuleConfig {
  return {
    rule: a.rule,
    model: a.model,
    inputShape: [...trainSet.shape],
    classes: trainSet.classes,
    seed: a.seed,
    streams: 'named', // a new config: every random draw from a stream named for what it is (RuleConfig.streams)
    optimizer: {
      type: a.optimizer,
      lr: a.lr,
      ...(a.optimizer === 'adamw' || a.optimizer === 'adamw8bit' ? { weightDecay: 1e-3 } : {}),
      // the 8-bit SGD quantises the momentum, so it has one (plain sgd here has none)
      ...(a.optimizer === 'sgd8bit' ? { momentum: 0.9 } : {}),
    },
    tpsgd: { loss: a.localLoss },
    noprop: {
      T: a.blocks,
      embedding: a.embedding,
      embedDim: a.embedDim,
      weighting: a.weighting,
      ...(a.embedding === 'prototype' ? { prototypes: Array.from(classPrototypes(trainSet)) } : {}),
    },
  };
}

/** `layerhive plan`: measure each group once and print where it would run on `workers` workers. */
export async function runPlan(
  a: ConfigArgs & { data: string; workers: number; backend: string; json: boolean; stageThreads: 'auto' | 1 },
): Promise<void> {
  const { train: trainSet } = await loadData(a.data, 64);
  const config = ruleConfig(a, trainSet);
  const plan = makePlan(config, await placementCosts(config, a.backend, a.stageThreads), a.workers);
  console.log(a.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
}

/** What `train` holds while it runs; released on every path, errors included, so the process can end on its own. */
interface Held {
  bar: cliProgress.SingleBar | null;
  pool: WorkerPool | null;
  rule: LearningRule | null;
}

export async function runTrain(a: TrainArgs): Promise<void> {
  const t0 = performance.now();
  if (a.backend === 'webgpu') await useNodeWebGpu();
  const backend = await lh.createBackend(a.backend);
  const held: Held = { bar: null, pool: null, rule: null };
  try {
    await trainWith(a, backend, held, t0);
  } finally {
    held.bar?.stop(); // its redraw timer would keep the process alive
    await held.pool?.close();
    held.rule?.dispose();
    if (held.rule && held.rule.backend !== backend) held.rule.backend.destroy?.();
    backend.destroy?.();
  }
}

async function trainWith(a: TrainArgs, backend: lh.Backend, held: Held, t0: number): Promise<void> {
  checkInitArgs(a);
  let resumed: Loaded | null = null;
  if (a.resume) {
    const { store, name } = FsCheckpointStore.at(a.resume);
    resumed = await store.load(name, { fallback: true });
    for (const s of resumed.skipped) console.log(`skipped damaged version ${s.version}: ${s.error}`);
  }
  const before = resumed?.meta.run as RunMeta | undefined;
  if (resumed && (!before || !resumed.cursor))
    fail(
      'DATA_INVALID',
      `${a.resume} holds no run settings or data cursor to resume from`,
      'resume a checkpoint written by `layerhive train --out`',
    );
  if (before && a.epochs <= before.epochsDone)
    fail(
      'INVALID_ARGUMENT',
      `${a.resume} has trained ${before.epochsDone} of its epochs already`,
      `pass --epochs above ${before.epochsDone} (the total to reach)`,
    );
  const data = before?.data ?? a.data,
    limit = before ? before.limit : a.limit;
  const images = before
    ? before.images
    : { imageSize: a.imageSize, channels: a.channels, skipBadImages: a.skipBadImages };
  const { train: trainSet, test: testSet, classNames } = await loadData(data, limit, images);
  let config = resumed?.config ?? ruleConfig(a, trainSet);
  // --init: the rule with the file's weights, built here and trained in this thread or handed to the workers
  let initial: LearningRule | null = null;
  if (a.init) {
    const r = await ruleFromInit(
      { init: a.init, freeze: a.freeze, headOnly: a.headOnly },
      config,
      trainSet,
      data,
      backend,
    );
    initial = held.rule = r.rule;
    config = r.config;
    for (const n of r.notes) console.log(`note: ${n}`);
    console.log(initSummary(a.init, config, r.frozen));
  }
  if (a.workers && parallelismOf(config) === null)
    fail(
      'INVALID_ARGUMENT',
      `${config.trunk ? `a ${config.rule} head on a frozen network` : config.rule} trains in one thread`,
      'leave out --workers',
    );
  const run = before ?? {
    data,
    limit,
    ...(a.init ? { init: a.init } : {}),
    ...(classNames ? { images, classNames } : {}),
    batch: a.batch,
    lr: a.lr,
    seed: a.seed,
    epochs: a.epochs,
    epochsDone: 0,
    testAccuracy: 0,
    schedule:
      a.schedule === 'cosine'
        ? { type: 'cosine' as const, totalSteps: a.epochs * Math.ceil(trainSet.count / a.batch) }
        : { type: 'constant' as const },
  };
  const out = a.out ?? a.resume;
  const target = out ? FsCheckpointStore.at(out) : null;
  console.log(
    (resumed ? `resuming ${a.resume} (version ${resumed.info.version}, ${before!.epochsDone} epoch(s) done): ` : '') +
      `training ${config.rule} (${config.layers ? `${config.layers.length} layers` : config.model}) on ${data}: ` +
      `${trainSet.count} images, ${a.epochs} epoch(s), ` +
      `batch ${run.batch}, lr ${run.lr}, ${backend.flavour}${a.workers ? `, ${a.workers} worker(s)` : ''}`,
  );
  const bar = a.progress
    ? new cliProgress.SingleBar(
        {
          format:
            'epoch {epoch} {bar} {percentage}% | {value}/{total} batches | ' +
            '{sps} samples/s | loss {loss} | ETA {eta_formatted}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  held.bar = bar;
  const options = {
    epochs: a.epochs,
    batchSize: run.batch,
    seed: run.seed,
    lr: run.lr,
    schedule: run.schedule,
    cursor: resumed?.cursor ?? undefined,
    onProgress: (p: lh.Progress) => {
      if (!bar) return;
      if (!bar.isActive) bar.start(p.batches, 0, { epoch: p.epoch + 1, sps: '…', loss: '…' });
      bar.update(p.batch, { epoch: p.epoch + 1, sps: p.samplesPerSecond.toFixed(0), loss: p.loss.toFixed(4) });
    },
    onEpoch: async (e: lh.EpochReport, cursor: lh.BatchCursor, rule: LearningRule) => {
      bar?.stop();
      console.log(
        `epoch ${e.epoch + 1}: train loss ${e.trainLoss.toFixed(4)}, ` +
          `test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, ` +
          `${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s`,
      );
      if (!target) return;
      const meta: RunMeta = { ...run, epochs: a.epochs, epochsDone: e.epoch + 1, testAccuracy: e.testAccuracy };
      const v = await target.store.save(
        target.name,
        await captureCheckpoint(rule, config, { cursor, meta: { run: meta } }),
        { keep: a.keep, quantize: a.quantize ? { weights: true, optimizer: true } : undefined },
      );
      console.log(
        `checkpoint ${out} version ${v.version} (${(v.bytes / 2 ** 20).toFixed(2)} MiB${v.quantized ? ', int8' : ''})`,
      );
    },
  };
  let rule: LearningRule,
    epochs: lh.EpochReport[],
    parallel: ParallelReport | null = null;
  if (a.workers) {
    // this command starts the stage workers and closes them, whichever way training ends
    const maxBytesPerWorker = a.workerMemory === undefined ? undefined : a.workerMemory * 2 ** 20;
    const costs = await placementCosts(config, a.backend, a.stageThreads);
    held.pool = new WorkerPool(
      nodeSpawner(a.workerUrl),
      makePlan(config, costs, a.workers, maxBytesPerWorker).stages.length,
    );
    const r = await trainParallel(config, trainSet, testSet, {
      ...options,
      initial: resumed?.groups ?? (initial ? await saveGroups(initial) : undefined),
      workers: a.workers,
      backend: a.backend,
      stageThreads: a.stageThreads,
      pool: held.pool,
      costs,
      syncEvery: a.syncEvery,
      microBatches: a.microBatches,
      maxBytesPerWorker,
    });
    initial?.dispose();
    rule = r.rule;
    held.rule = rule;
    parallel = r.report;
    epochs = parallel.epochs;
    console.log(formatPlan(parallel.plan));
    console.log(
      `between stages: ${(parallel.stageBytes / 2 ** 20).toFixed(1)} MiB ` +
        `(${parallel.stageBytesPerSample.toFixed(0)} B/sample); ` +
        `synced into the coordinator: ${(parallel.syncBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    for (const x of parallel.restarts)
      console.log(`restart in epoch ${x.epoch + 1}, chunk ${x.chunk}: ${x.reason}; replayed ${x.replayedSteps} steps`);
  } else {
    rule = initial ?? (resumed ? restoreRule(resumed, backend) : createRule(config, backend));
    held.rule = rule;
    ({ epochs } = await train(rule, trainSet, testSet, options));
  }
  const last = epochs[epochs.length - 1];
  const wall = (performance.now() - t0) / 1000;
  const report = {
    rule: config.rule,
    model: config.model,
    data,
    ...(classNames ? { class_names: classNames } : {}),
    epochs: a.epochs,
    test_accuracy: last.testAccuracy,
    wall_s: wall,
    samples_per_s: epochs.reduce((s, e) => s + e.samplesPerSecond, 0) / epochs.length,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    per_epoch: epochs,
    ...(parallel
      ? {
          workers: parallel.plan.stages.length,
          plan: parallel.plan,
          stage_bytes_per_sample: parallel.stageBytesPerSample,
          sync_bytes: parallel.syncBytes,
          restarts: parallel.restarts,
          worker_peak_tensor_mb: parallel.workers.map((w) => w.peakTensorBytes / 2 ** 20),
        }
      : {}),
  };
  if (a.report) await writeFile(a.report, JSON.stringify(report, null, 2));
}

/** A rule in the state of a checkpoint written by `train` (its newest version, or `version`), and its config. */
export async function loadRuleCheckpoint(
  dir: string,
  backendName: string,
  version?: number,
): Promise<{ rule: LearningRule; config: RuleConfig; backend: lh.Backend }> {
  const { store, name } = FsCheckpointStore.at(dir);
  const ck = await store.load(name, { version });
  const backend = await lh.createBackend(backendName);
  return { rule: restoreRule(ck, backend), config: ck.config, backend };
}

export async function runEval(a: {
  model: string;
  version?: number;
  data: string;
  backend: string;
  json: boolean;
}): Promise<number> {
  const { rule, config, backend } = await loadRuleCheckpoint(a.model, a.backend, a.version);
  try {
    const { test } = await loadData(a.data);
    const acc = await evaluate((x) => rule.predict(x), backend, test);
    console.log(
      a.json
        ? JSON.stringify({ rule: config.rule, model: config.model, data: a.data, test_accuracy: acc })
        : `${config.rule} (${config.model}) on ${a.data}: ` +
            `test accuracy ${(100 * acc).toFixed(2)}% (${test.count} images)`,
    );
    return acc;
  } finally {
    rule.dispose();
    backend.destroy?.();
  }
}

/** `--normalization`: a name or MEAN,STD, as a Normalization (checked again by the exporter). */
function parseNormalization(v: string): lh.Normalization {
  if (v === 'mnist') return lh.MNIST_NORMALIZATION;
  if (v === 'unit') return lh.UNIT_SCALE;
  const [mean, std, ...rest] = v.split(',').map(Number);
  if (rest.length || !(Number.isFinite(mean) && std > 0 && Number.isFinite(std)))
    fail('INVALID_ARGUMENT', `--normalization ${v} is not mnist, unit or MEAN,STD`, 'e.g. --normalization 0.5,0.25');
  return { mean, std };
}

/**
 * `layerhive export`: a checkpoint's network (or NoProp-DT's unrolled inference) as an ONNX file that takes pixels
 * in [0, 1] and carries its contract. The normalisation it was trained with: `--normalization`, else the
 * checkpoint's `meta.normalization` when a trainer recorded one, else MNIST's (what `layerhive train` applies).
 */
export async function runExport(a: {
  model: string;
  version?: number;
  out: string;
  input?: 'pixels' | 'normalized';
  normalization?: string;
  classNames?: string;
}): Promise<void> {
  const { store, name } = FsCheckpointStore.at(a.model);
  const ck = await store.load(name, { version: a.version });
  if (ck.config.trunk)
    fail(
      'INVALID_ARGUMENT',
      `${a.model} holds a ${ck.config.rule} head on a frozen network, which has no ONNX export`,
      'eval and explain (its perturbation methods) take it; for an exportable fine-tune, train with ' +
        '--init model.onnx --rule backprop|tpsgd (with --freeze N or --head-only)',
    );
  const stored = ck.meta.normalization as Partial<lh.Normalization> | undefined;
  const normalization = a.normalization
    ? parseNormalization(a.normalization)
    : typeof stored?.mean === 'number' && typeof stored.std === 'number'
      ? { mean: stored.mean, std: stored.std }
      : lh.MNIST_NORMALIZATION;
  const classNames = a.classNames?.split(',').map((c) => c.trim());
  const backend = await lh.createBackend('wasm'),
    config = ck.config;
  let rule: LearningRule | null = null;
  try {
    rule = restoreRule(ck, backend);
    const input = a.input ?? 'pixels';
    const bytes = await exportOnnx(rule, { input, normalization, classNames });
    await writeFile(a.out, bytes);
    const noise =
      config.rule === 'noprop-dt'
        ? `, noise [N, ${(rule as unknown as { embedding: lh.Tensor }).embedding.shape[1]}] (z_0: N(0, I) draws)`
        : '';
    const { mean, std } = normalization;
    console.log(
      `wrote ${a.out} (${bytes.length} bytes, opset 17, ` +
        `input [N, ${config.inputShape.join(', ')}]${noise} → logits [N, ${config.classes}])\n` +
        (input === 'pixels'
          ? `input: float pixels v/255 in [0, 1], NCHW; the graph normalises them (mean ${mean}, std ${std})`
          : `input: normalised pixels (v/255 − ${mean})/${std}, NCHW, as layerhive feeds the network`) +
        '; the contract is in the metadata (readContract)',
    );
  } finally {
    rule?.dispose();
    backend.destroy?.();
  }
}

/** `layerhive import`: an ONNX network as a checkpoint (version 1 of the folder) to evaluate, explain or fine-tune. */
export async function runImport(a: {
  file: string;
  out: string;
  rule: 'backprop' | 'tpsgd';
  lr: number;
}): Promise<void> {
  const backend = await lh.createBackend('wasm');
  const { rule, config, notes } = await ruleFromOnnx(new Uint8Array(await readFile(a.file)), backend, {
    rule: a.rule,
    model: 'mlp',
    seed: 0,
    optimizer: { type: 'adam', lr: a.lr },
  });
  const { store, name } = FsCheckpointStore.at(a.out);
  const v = await store.save(name, await captureCheckpoint(rule, config, { meta: { importedFrom: a.file, notes } }));
  rule.dispose();
  for (const n of notes) console.log(`note: ${n}`);
  console.log(
    `imported ${a.file} as ${config.rule} [${config.inputShape.join(', ')}] → ${config.classes} classes ` +
      `(${config.layers!.length} layers) into ${a.out} version ${v.version}`,
  );
}
