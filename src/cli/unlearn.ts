import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import Table from 'cli-table3';
import * as lh from '../index.js';
import { fail } from '../core/errors.js';
import { FsCheckpointStore } from '../store/fs-store.js';
import { captureCheckpoint, restoreRule } from '../store/checkpoint.js';
import type { Schedule } from '../learn/optim/index.js';
import type { FitSettings } from '../learn/unlearn/train-on.js';
import { unlearn } from '../learn/unlearn/unlearn.js';
import { unlearnMethods, type UnlearnMethod } from '../learn/unlearn/options.js';
import { splitByClass, splitByIndices } from '../learn/unlearn/split.js';
import { unlearningMetrics, type UnlearningMetrics } from '../learn/unlearn/metrics.js';
import { release } from '../learn/unlearn/weights.js';
import { int, positive } from './option-parsers.js';
import { loadData, type ImageArgs } from './train.js';

export interface UnlearnArgs {
  model: string;
  version?: number;
  forgetIndices?: string;
  forgetClass?: number;
  method: UnlearnMethod;
  gamma: number;
  epochs: number;
  lr?: number;
  batch: number;
  seed?: number;
  /** Where the new version goes (default: a new version in `model`). */
  out?: string;
  /** Data when the checkpoint does not say what it was trained on. */
  data?: string;
  backend: string;
  json: boolean;
  /** A progress bar on stderr while the method runs (default on; never with --json). */
  progress?: boolean;
}

/** What `layerhive train` stores as `meta.run`: the parts that say which samples the model learned, and how. */
interface TrainedOn {
  data?: string;
  limit?: number;
  images?: ImageArgs;
  batch?: number;
  lr?: number;
  seed?: number;
  schedule?: Schedule;
  epochsDone?: number;
  init?: string;
}

export interface UnlearnReport {
  method: UnlearnMethod;
  forgotten: number;
  retained: number;
  seconds: number;
  before: UnlearningMetrics;
  after: UnlearningMetrics;
  version?: number;
  out?: string;
}

/** The forget list: a JSON array of training-set indices, or indices separated by spaces, commas or new lines. */
export async function readIndexFile(path: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return fail('NOT_FOUND', `cannot read the forget list ${path}`, 'pass a file of training-set indices');
  }
  const t = text.trim();
  const items = t.startsWith('[') ? (JSON.parse(t) as unknown[]) : t.split(/[\s,]+/).filter(Boolean);
  const out = items.map(Number);
  const bad = items.findIndex((v, i) => String(v).trim() === '' || !Number.isInteger(out[i]));
  if (bad >= 0)
    fail('DATA_INVALID', `${path}: ${JSON.stringify(items[bad])} is not a sample index`, 'list whole numbers only');
  return out;
}

/**
 * `layerhive unlearn --model CK (--forget-indices FILE | --forget-class C)`: removes those training samples'
 * influence from a checkpoint written by `layerhive train`, saves the result as a new version, and prints UA, RA,
 * TA and MIA-Efficacy before and after.
 */
export async function runUnlearn(a: UnlearnArgs): Promise<UnlearnReport> {
  if ((a.forgetIndices === undefined) === (a.forgetClass === undefined))
    fail('INVALID_ARGUMENT', 'pass one of --forget-indices FILE and --forget-class C', 'say which samples to forget');
  const { store, name } = FsCheckpointStore.at(a.model);
  const ck = await store.load(name, { version: a.version });
  const run = (ck.meta.run ?? {}) as TrainedOn;
  const data = run.data ?? a.data;
  if (data === undefined)
    fail(
      'DATA_INVALID',
      `${a.model} does not say which data it was trained on`,
      'pass --data mnist|DIR (the training data of the model)',
    );
  if (a.method === 'retrain' && run.init)
    fail('INVALID_ARGUMENT', `${a.model} started from ${run.init}`, 'retrain needs a model trained from its seed');
  const { train, test } = await loadData(data, run.limit, run.images);
  const split =
    a.forgetClass !== undefined
      ? splitByClass(train, a.forgetClass)
      : splitByIndices(train, await readIndexFile(a.forgetIndices!));
  const backend = await lh.createBackend(a.backend);
  const rule = restoreRule(ck, backend);
  let unlearned: lh.LearningRule | null = null;
  const bar =
    a.progress !== false && !a.json
      ? new cliProgress.SingleBar(
          { format: `${a.method} epoch {epoch} {bar} {percentage}% | {value}/{total} batches`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const onStep = (p: { epoch: number; batch: number; batches: number }) => {
    if (!bar) return;
    if (!bar.isActive || p.batch === 1) bar.start(p.batches, 0, { epoch: p.epoch + 1 });
    bar.update(p.batch, { epoch: p.epoch + 1 });
  };
  try {
    const sets = { forget: split.forget, retain: split.retain, test };
    const before = await unlearningMetrics(rule, sets);
    const retrain: Partial<FitSettings> = {
      epochs: run.epochsDone,
      batchSize: run.batch,
      seed: run.seed,
      lr: run.lr,
      schedule: run.schedule,
    };
    const r = await unlearn(rule, {
      onStep,
      config: ck.config,
      forget: split.forget,
      retain: split.retain,
      method: a.method,
      gamma: a.gamma,
      epochs: a.epochs,
      lr: a.lr,
      batchSize: a.batch,
      seed: a.seed,
      retrain,
    });
    bar?.stop();
    unlearned = r.rule;
    const after = await unlearningMetrics(unlearned, sets);
    const target = a.out ? FsCheckpointStore.at(a.out) : { store, name };
    const v = await target.store.save(
      target.name,
      await captureCheckpoint(unlearned, ck.config, {
        meta: {
          ...ck.meta,
          run: { ...run, testAccuracy: after.ta },
          unlearned: {
            method: a.method,
            from: { dir: a.model, version: ck.info.version },
            ...(a.forgetClass !== undefined ? { class: a.forgetClass } : { indices: [...split.forgetIndices] }),
          },
        },
      }),
    );
    const report: UnlearnReport = {
      method: a.method,
      forgotten: split.forget.count,
      retained: split.retain.count,
      seconds: r.seconds,
      before,
      after,
      version: v.version,
      out: a.out ?? a.model,
    };
    print(report, a.json);
    return report;
  } finally {
    bar?.stop(); // its redraw timer would keep the process alive
    if (unlearned) release(unlearned);
    release(rule);
    backend.destroy?.();
  }
}

function print(r: UnlearnReport, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  const pct = (v: number) => `${(100 * v).toFixed(2)}`;
  const t = new Table({ head: ['model', 'UA %', 'RA %', 'TA %', 'MIA-Efficacy %'] });
  for (const [label, m] of [
    ['trained', r.before],
    [r.method, r.after],
  ] as const)
    t.push([label, pct(m.ua), pct(m.ra), pct(m.ta), pct(m.mia)]);
  console.log(
    `${r.method}: forgot ${r.forgotten} samples, kept ${r.retained}, in ${r.seconds.toFixed(1)} s\n${t.toString()}`,
  );
  console.log(`checkpoint ${r.out} version ${r.version} no longer carries them`);
}

/** Registers `layerhive unlearn`. */
export function unlearnCommand(program: Command): void {
  program
    .command('unlearn')
    .description(
      "remove some training samples' influence from a checkpoint (SalUn by default) and save it as a new version; " +
        'prints unlearning, remaining and test accuracy and MIA-Efficacy before and after',
    )
    .requiredOption('--model <dir>', 'a checkpoint written by `layerhive train --out`')
    .option('--version <n>', 'a version from `layerhive checkpoints` (default the newest)', int('--version'))
    .option('--forget-indices <file>', 'training-set indices to forget (a JSON array, or one per line)')
    .option('--forget-class <c>', 'forget every training sample of this class', (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isInteger(n) || n < 0)
        throw new InvalidArgumentError('--forget-class must be a class number (0, 1, …)');
      return n;
    })
    .addOption(new Option('--method <name>', 'unlearning method').choices([...unlearnMethods]).default('salun'))
    .option('--gamma <x>', 'salun: the fraction of weights, by saliency, that may move', positive('--gamma'), 0.5)
    .option('--epochs <n>', 'unlearning epochs', int('--epochs'), 5)
    .option('--lr <x>', "unlearning learning rate (default the checkpoint's)", positive('--lr'))
    .option('--batch <n>', 'batch size', int('--batch'), 64)
    .option('--seed <n>', "seed of the data order and random labels (default the checkpoint's)", (v) =>
      Number.parseInt(v, 10),
    )
    .option('--out <dir>', 'save the new version here instead of in --model')
    .option('--data <mnist|dir>', 'the training data, when the checkpoint does not name it')
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
    .option('--json', 'print JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (o) => {
      await runUnlearn({ ...o, json: !!o.json });
    });
}
