import cliProgress from 'cli-progress';
import * as lh from '../index.js';
import { loadIdxDir, loadMnist, type TrainTest } from '../data/idx-file.js';
import { subset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import { evaluate, train } from '../learn/trainer.js';
import { loadCheckpoint, saveCheckpoint } from '../store/fs-checkpoint.js';
import type { LearningRule } from '../learn/rule.js';
import { writeFile } from 'node:fs/promises';
import { fail } from '../core/errors.js';
import { classPrototypes, type EmbeddingKind } from '../learn/noprop/embedding.js';

export async function loadData(data: string, limit?: number): Promise<TrainTest> {
  const d = data === 'mnist' ? await loadMnist() : await loadIdxDir(data);
  if (limit !== undefined) {
    if (!(Number.isInteger(limit) && limit > 0)) fail('INVALID_ARGUMENT', `--limit ${limit} is not a positive integer`, 'pass a sample count such as 2000');
    return { train: subset(d.train, 0, Math.min(limit, d.train.count)), test: d.test };
  }
  return d;
}

interface CheckpointMeta { config: RuleConfig; data: string; epochs: number; testAccuracy: number }

/** Every tensor a rule needs to predict again: parameters and buffers (running statistics, projections, embeddings). */
const ruleTensors = (r: LearningRule) => new Map([...r.params(), ...r.buffers()]);

export interface TrainArgs {
  rule: RuleConfig['rule']; model: RuleConfig['model']; data: string; epochs: number; batch: number; lr: number; seed: number;
  out?: string; report?: string; limit?: number; backend: string; optimizer: 'sgd' | 'adam' | 'adamw'; progress: boolean;
  schedule: 'constant' | 'cosine'; localLoss: 'l2' | 'l1'; blocks: number; embedding: EmbeddingKind; embedDim?: number; weighting: 'snr-derivative' | 'uniform';
}

export async function runTrain(a: TrainArgs): Promise<void> {
  const t0 = performance.now();
  const backend = await lh.createBackend(a.backend);
  const { train: trainSet, test: testSet } = await loadData(a.data, a.limit);
  const config: RuleConfig = {
    rule: a.rule, model: a.model, inputShape: [...trainSet.shape], classes: trainSet.classes, seed: a.seed,
    optimizer: { type: a.optimizer, lr: a.lr, ...(a.optimizer === 'adamw' ? { weightDecay: 1e-3 } : {}) },
    tpsgd: { loss: a.localLoss },
    noprop: {
      T: a.blocks, embedding: a.embedding, embedDim: a.embedDim, weighting: a.weighting,
      ...(a.embedding === 'prototype' ? { prototypes: Array.from(classPrototypes(trainSet)) } : {}),
    },
  };
  const steps = a.epochs * Math.ceil(trainSet.count / a.batch);
  const rule = createRule(config, backend);
  console.log(`training ${a.rule} (${a.model}) on ${a.data}: ${trainSet.count} images, ${a.epochs} epoch(s), batch ${a.batch}, lr ${a.lr}, ${backend.flavour}`);
  const bar = a.progress ? new cliProgress.SingleBar({ format: 'epoch {epoch} {bar} {percentage}% | {value}/{total} batches | {sps} samples/s | loss {loss} | ETA {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  const { epochs } = await train(rule, trainSet, testSet, {
    epochs: a.epochs, batchSize: a.batch, seed: a.seed, lr: a.lr,
    schedule: a.schedule === 'cosine' ? { type: 'cosine', totalSteps: steps } : { type: 'constant' },
    onProgress: (p) => {
      if (!bar) return;
      if (p.batch === 1) bar.start(p.batches, 0, { epoch: p.epoch + 1, sps: '…', loss: '…' });
      bar.update(p.batch, { epoch: p.epoch + 1, sps: p.samplesPerSecond.toFixed(0), loss: p.loss.toFixed(4) });
    },
    onEpoch: (e) => {
      bar?.stop();
      console.log(`epoch ${e.epoch + 1}: train loss ${e.trainLoss.toFixed(4)}, test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, ${e.seconds.toFixed(1)} s, ${e.samplesPerSecond.toFixed(0)} samples/s`);
    },
  });
  const last = epochs[epochs.length - 1];
  if (a.out) {
    await saveCheckpoint<CheckpointMeta>(a.out, { config, data: a.data, epochs: a.epochs, testAccuracy: last.testAccuracy }, ruleTensors(rule));
    console.log(`checkpoint written to ${a.out}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const report = {
    rule: a.rule, model: a.model, data: a.data, epochs: a.epochs, test_accuracy: last.testAccuracy, wall_s: wall,
    samples_per_s: epochs.reduce((s, e) => s + e.samplesPerSecond, 0) / epochs.length,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024, per_epoch: epochs,
  };
  if (a.report) await writeFile(a.report, JSON.stringify(report, null, 2));
  rule.dispose();
}

export async function runEval(a: { model: string; data: string; backend: string; json: boolean }): Promise<number> {
  const { meta, tensors } = await loadCheckpoint<CheckpointMeta>(a.model);
  const backend = await lh.createBackend(a.backend);
  const rule = createRule(meta.config, backend);
  const targets = ruleTensors(rule);
  for (const [name, t] of targets) {
    const v = tensors.get(name);
    if (!v) fail('DATA_INVALID', `checkpoint ${a.model} lacks tensor '${name}'`, 'the checkpoint is from another model; train again');
    lh.tidy(() => lh.assign(t, lh.tensor(v, t.shape, t.dtype, backend)));
  }
  const { test } = await loadData(a.data);
  const acc = evaluate((x) => rule.predict(x), backend, test);
  console.log(a.json ? JSON.stringify({ rule: meta.config.rule, model: meta.config.model, data: a.data, test_accuracy: acc }) : `${meta.config.rule} (${meta.config.model}) on ${a.data}: test accuracy ${(100 * acc).toFixed(2)}% (${test.count} images)`);
  rule.dispose();
  return acc;
}
