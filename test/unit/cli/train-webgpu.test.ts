/**
 * `layerhive train --backend webgpu` (the README's WebGPU section, issue 14) through the built bin, as a user runs it:
 * it trains on WebGPU (the `webgpu` package in Node), exits 0 soon after its last line, prints and saves what the
 * README says, its checkpoint evaluates with `layerhive eval` to the accuracy it printed, and it learns what the same
 * run learns on the js reference backend.
 *
 * A software adapter trains at a few images a second, so the run is small: a data folder (`--data DIR`, the four IDX
 * files) with the first 64 MNIST training and the first 200 test images, 4 steps of batch 16. The js run goes at the
 * same time (the WebGPU one is the longer: it also measures its matmul kernels when it starts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createBackend, MNIST_NORMALIZATION, normalizePixels, restoreRule, tensor, tidy } from '../../../src/index.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { IDX_FILES, loadIdxDir, mnistDataDir } from '../../../src/data/idx-file.js';
import { ends, type Ended } from './run-cli.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-train-webgpu/', import.meta.url));
const data = join(dir, 'data');
const TRAIN_IMAGES = 64,
  TEST_IMAGES = 200;
/** Longest one command may run before it counts as hung (a loaded 2-core machine: the WebGPU run took 16–44 s). */
const COMMAND_LIMIT_S = 100;

/** Runs `layerhive ...args` without blocking; stopped (SIGTERM) after COMMAND_LIMIT_S. */
const layerhive = (...args: string[]): Promise<Ended> => ends(COMMAND_LIMIT_S, ...args);

/** The first `n` items of each of the four MNIST IDX files as a data folder (the header's count rewritten). */
function writeDataFolder(out: string, train: number, test: number): void {
  mkdirSync(out, { recursive: true });
  const files: [string, number, number, number][] = [
    [IDX_FILES.trainImages, train, 16, 784],
    [IDX_FILES.trainLabels, train, 8, 1],
    [IDX_FILES.testImages, test, 16, 784],
    [IDX_FILES.testLabels, test, 8, 1],
  ];
  for (const [name, n, header, bytesPerItem] of files) {
    const bytes = Buffer.from(readFileSync(join(mnistDataDir(), name)).subarray(0, header + n * bytesPerItem));
    bytes.writeUInt32BE(n, 4);
    writeFileSync(join(out, name), bytes);
  }
}

const trainArgs = (backend: string) => [
  'train',
  '--rule',
  'backprop',
  '--backend',
  backend,
  '--data',
  data,
  '--batch',
  '16',
  '--lr',
  '2e-3',
  '--optimizer',
  'adam',
  '--seed',
  '1',
  '--no-progress',
  '--out',
  join(dir, `ck-${backend}`),
  '--report',
  join(dir, `report-${backend}.json`),
];

/** A checkpoint's logits on the test images, restored on the js backend. */
async function checkpointLogits(ck: string): Promise<Float32Array> {
  const { test } = await loadIdxDir(data);
  const x = normalizePixels(test.images, MNIST_NORMALIZATION);
  const { store, name } = FsCheckpointStore.at(ck);
  const backend = await createBackend('js');
  const rule = restoreRule(await store.load(name), backend);
  try {
    const logits = tidy(() => rule.predict(tensor(x, [test.count, 1, 28, 28], 'float32', backend)));
    const values = Float32Array.from((await logits.data()) as Float32Array);
    logits.dispose();
    return values;
  } finally {
    rule.dispose();
  }
}

const argmaxRows = (v: Float32Array, k: number) =>
  Array.from({ length: v.length / k }, (_, r) => {
    const row = v.subarray(r * k, (r + 1) * k);
    return row.indexOf(Math.max(...row));
  });

const ok = (e: Ended) => {
  expect(e.stderr, 'stderr').toBe('');
  expect([e.code, e.signal], 'exit code and signal').toEqual([0, null]);
  return e.stdout;
};

describe('layerhive train --backend webgpu', () => {
  let webgpu: Ended, js: Ended, evaluated: Ended;
  beforeAll(
    async () => {
      rmSync(dir, { recursive: true, force: true });
      writeDataFolder(data, TRAIN_IMAGES, TEST_IMAGES);
      [webgpu, js] = await Promise.all([layerhive(...trainArgs('webgpu')), layerhive(...trainArgs('js'))]);
      evaluated = await layerhive('eval', '--model', join(dir, 'ck-webgpu'), '--data', data, '--json');
    },
    2 * COMMAND_LIMIT_S * 1000 + 10_000,
  );

  it('trains on WebGPU, exits 0 soon after its last line, prints and saves what the README says, and `eval` of its ' +
    'checkpoint scores what it printed', { tags: ['behaviour'] }, () => {
    const out = ok(webgpu);
    const lines = out.trim().split('\n');
    const ck = join(dir, 'ck-webgpu');
    const head = `training backprop (mlp) on ${data}: ${TRAIN_IMAGES} images, 1 epoch(s), batch 16, lr 0.002, `;
    expect(lines[0].startsWith(head), lines[0]).toBe(true);
    // the backend's flavour: 'webgpu-fallback' on a software adapter such as SwiftShader
    expect(['webgpu', 'webgpu-fallback']).toContain(lines[0].slice(head.length));
    expect(lines[1]).toMatch(/^epoch 1: train loss [\d.]+, test accuracy [\d.]+%, [\d.]+ s, \d+ samples\/s$/);
    expect(lines[2]).toMatch(new RegExp(`^checkpoint ${ck} version 1 \\([\\d.]+ MiB\\)$`));
    expect(lines).toHaveLength(3);
    // README: "Every command ends on its own when its work is done: … WebGPU devices are released on every path"
    expect(webgpu.afterOutputS, 'seconds from the last line to the exit').toBeLessThan(10);

    const report = JSON.parse(readFileSync(join(dir, 'report-webgpu.json'), 'utf8'));
    for (const key of ['rule', 'model', 'data', 'epochs', 'test_accuracy', 'wall_s', 'samples_per_s', 'peak_rss_mb'])
      expect(report, key).toHaveProperty(key);
    expect(report).toMatchObject({ rule: 'backprop', model: 'mlp', data, epochs: 1 });
    expect(report.per_epoch).toHaveLength(1);
    const printed = Number(/test accuracy ([\d.]+)%/.exec(lines[1])![1]) / 100;
    expect(report.test_accuracy).toBeCloseTo(printed, 4);
    // 53.5% (107 of the 200) on js, wasm and webgpu-fallback alike (`layerhive train` as above on the 2-core VM,
    // Node 20, SwiftShader); chance is 10%
    expect(report.test_accuracy).toBeGreaterThan(0.48);

    // the checkpoint, reloaded by `eval` (wasm), predicts the test images as the WebGPU run did when it scored them
    const scored = JSON.parse(ok(evaluated));
    expect(scored).toMatchObject({ rule: 'backprop', model: 'mlp', data });
    // equal on this machine; one image of slack for float32 rounding between the backends on a near-tie
    expect(Math.abs(scored.test_accuracy - report.test_accuracy)).toBeLessThanOrEqual(1 / TEST_IMAGES);
  });

  it('learns what the same run learns on the js backend', { tags: ['js-oracle'] }, async () => {
    ok(webgpu);
    expect(ok(js)).toMatch(/, js\n/);
    const [g, j] = ['webgpu', 'js'].map((b) => JSON.parse(readFileSync(join(dir, `report-${b}.json`), 'utf8')));
    // same seeded weights and data order; the backends differ only in float32 summation order (measured: the
    // epoch's mean loss 2.7257079 vs 2.7257025, 2e-6 apart relatively)
    const lossGpu = g.per_epoch[0].trainLoss,
      lossJs = j.per_epoch[0].trainLoss;
    expect(Math.abs(lossGpu - lossJs) / lossJs, `train loss ${lossGpu} vs ${lossJs}`).toBeLessThan(1e-4);
    // the two checkpoints' logits on the 200 test images, both on js: measured 3.6e-5 apart at most (of logits up
    // to 7.6 in size); 1e-3 leaves room for rounding, while one wrong gradient or update moves them by ~lr = 2e-3
    // per step or more
    const [lg, lj] = [await checkpointLogits(join(dir, 'ck-webgpu')), await checkpointLogits(join(dir, 'ck-js'))];
    expect(lg.length).toBe(TEST_IMAGES * 10);
    let worst = 0;
    for (let i = 0; i < lg.length; i++) worst = Math.max(worst, Math.abs(lg[i] - lj[i]));
    expect(worst, 'max |Δ logit|').toBeLessThan(1e-3);
    const pg = argmaxRows(lg, 10),
      pj = argmaxRows(lj, 10);
    const differ = pg.filter((p, i) => p !== pj[i]).length;
    expect(differ, 'test images predicted differently').toBeLessThanOrEqual(1);
    expect(Math.abs(g.test_accuracy - j.test_accuracy)).toBeLessThanOrEqual(1 / TEST_IMAGES);
  });
});
