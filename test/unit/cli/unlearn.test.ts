/**
 * `layerhive unlearn` on a small checkpoint trained on 300 MNIST images: in-process (runUnlearn) for what it saves
 * and prints, through the built bin for the command line itself, and typed errors for requests it cannot serve.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRule, type RuleConfig } from '../../../src/learn/create.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { captureCheckpoint } from '../../../src/store/checkpoint.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { trainOn } from '../../../src/learn/unlearn/train-on.js';
import { release } from '../../../src/learn/unlearn/weights.js';
import { readIndexFile, runUnlearn, type UnlearnArgs } from '../../../src/cli/unlearn.js';
import { wasmRelaxed } from '../helpers.js';
import { ends } from './run-cli.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-unlearn/', import.meta.url));
const ck = `${dir}digits`;
const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 32 }, { type: 'tanh' }, { type: 'dense', units: 10 }],
  inputShape: [1, 28, 28],
  classes: 10,
  optimizer: { type: 'adam', lr: 3e-3 },
  seed: 1,
  streams: 'named',
};
const run = { data: 'mnist', limit: 300, batch: 32, lr: 3e-3, seed: 2, schedule: { type: 'constant' }, epochs: 3 };
const args = (o: Partial<UnlearnArgs>): UnlearnArgs => ({
  model: ck,
  method: 'salun',
  gamma: 0.5,
  epochs: 2,
  batch: 32,
  backend: 'wasm',
  json: true,
  ...o,
});

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const rule = createRule(config, wasmRelaxed);
  const train = subset((await loadMnist()).train, 0, run.limit);
  await trainOn(rule, train, { epochs: 3, batchSize: 32, seed: 2, lr: 3e-3 });
  const { store, name } = FsCheckpointStore.at(ck);
  await store.save(name, await captureCheckpoint(rule, config, { meta: { run: { ...run, epochsDone: 3 } } }));
  release(rule);
  writeFileSync(`${dir}forget.json`, JSON.stringify([0, 5, 17, 42, 299]));
  writeFileSync(`${dir}forget.txt`, '3\n8, 13\n');
  writeFileSync(`${dir}bad.txt`, '3 x 4');
  writeFileSync(`${dir}far.json`, '[1, 300]');
});

describe('layerhive unlearn', () => {
  it('indices: a new version that records them; the rest is kept', { tags: ['behaviour'] }, async () => {
    const r = await runUnlearn(args({ forgetIndices: `${dir}forget.json`, out: `${dir}salun` }));
    expect(r.forgotten).toBe(5);
    expect(r.retained).toBe(295);
    // five random samples: a model never taught them gets most right too (retraining's UA is its test error), so the
    // accuracy on them says little here; the class case below shows the forgetting
    expect(r.after.ra).toBeGreaterThan(0.7);
    const { store, name } = FsCheckpointStore.at(`${dir}salun`);
    const saved = await store.load(name);
    expect(saved.meta.unlearned).toMatchObject({ method: 'salun', indices: [0, 5, 17, 42, 299] });
    expect(saved.config).toEqual(config);
    const trained = await FsCheckpointStore.at(ck).store.load('digits');
    const w = (c: typeof saved) => Object.values(c.groups).flatMap((g) => [...(g.tensors['1.weight']?.data ?? [])]);
    expect(w(saved)).not.toEqual(w(trained));
  });

  it('a class, retrained from the run settings: the class is gone', { tags: ['behaviour'] }, async () => {
    const r = await runUnlearn(args({ forgetClass: 7, method: 'retrain', out: `${dir}retrain` }));
    expect(r.after.ua).toBe(1);
    expect(r.before.ua).toBeLessThan(0.5);
    // a new version in the folder asked for; the trained checkpoint keeps its one version
    expect((await FsCheckpointStore.at(ck).store.list('digits')).length).toBe(1);
  });

  it('forget lists: JSON or whitespace/commas; anything else is a typed error', { tags: ['behaviour'] }, async () => {
    expect(await readIndexFile(`${dir}forget.txt`)).toEqual([3, 8, 13]);
    await expect(readIndexFile(`${dir}bad.txt`)).rejects.toThrow(/"x" is not a sample index/);
    await expect(readIndexFile(`${dir}missing.txt`)).rejects.toThrow(/cannot read the forget list/);
    await expect(runUnlearn(args({ forgetIndices: `${dir}far.json` }))).rejects.toThrow(
      /forget index 300 is outside the training set's 300 samples/,
    );
    await expect(runUnlearn(args({}))).rejects.toThrow(/pass one of --forget-indices FILE and --forget-class C/);
    await expect(runUnlearn(args({ forgetClass: 10 }))).rejects.toThrow(/class 10 is not one of the 10 classes/);
  });

  it('through the bin: JSON out, and a typed error as exit code 1', { tags: ['behaviour'] }, async () => {
    const ok = await ends(
      120,
      'unlearn',
      '--model',
      ck,
      '--forget-class',
      '3',
      '--method',
      'finetune',
      '--epochs',
      '1',
      '--out',
      `${dir}bin`,
      '--json',
    );
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.method).toBe('finetune');
    expect(report.version).toBe(1);
    const bad = await ends(
      60,
      'unlearn',
      '--model',
      ck,
      '--forget-class',
      '3',
      '--forget-indices',
      `${dir}forget.json`,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/pass one of --forget-indices FILE and --forget-class C/);
  });
});
