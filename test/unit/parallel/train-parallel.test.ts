/**
 * Training across worker_threads: the same seed gives the same weights whatever the number of workers
 * (bit-identical for NoProp and tpSGD, float tolerance for the GPipe backprop), a killed worker is
 * replaced and its steps replayed, a throwing or hung stage is a typed error naming it.
 */
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import * as Comlink from 'comlink';
import {
  createRule,
  tidy,
  train,
  trainParallel,
  WorkerPool,
  PipelinedModel,
  type RuleConfig,
  type LearningRule,
  LayerhiveError,
} from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import type { Spawner } from '../../../src/parallel/spawn.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { expectClose, wasmRelaxed } from '../helpers.js';

const spawn = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));
const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 320);
const testSet = subset(mnist.test, 0, 200);
// stageThreads 1: these check what crossing workers does, so the plan must cut, never take threads instead
const opts = {
  epochs: 1,
  batchSize: 32,
  seed: 5,
  lr: 2e-3,
  schedule: { type: 'cosine' as const, totalSteps: 10 },
  stageThreads: 1 as const,
};
const base = {
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 2,
  optimizer: { type: 'adamw' as const, lr: 2e-3, weightDecay: 1e-3 },
};
const noprop: RuleConfig = { ...base, rule: 'noprop-dt', model: 'mlp', noprop: { T: 3 } };
const tpsgd: RuleConfig = { ...base, rule: 'tpsgd', model: 'mlp' };
const backprop: RuleConfig = { ...base, rule: 'backprop', model: 'mlp' };

const weights = (r: LearningRule) =>
  new Map([...r.params(), ...r.buffers()].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));

async function reference(c: RuleConfig) {
  const rule = createRule(c, wasmRelaxed);
  const { epochs } = await train(rule, trainSet, testSet, opts);
  const w = weights(rule);
  rule.dispose();
  return { w, accuracy: epochs[0].testAccuracy };
}

function expectSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol?: number) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of a) {
    if (tol === undefined)
      expect(Buffer.from(v.buffer).equals(Buffer.from(b.get(k)!.buffer)), `${k} bit-identical`).toBe(true);
    else expectClose(v, b.get(k)!, tol, tol, k);
  }
}

describe('parallel training', () => {
  it('NoProp-DT gives bit-identical weights with 1, 2 and 3 workers, and no traffic between them', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const ref = await reference(noprop);
    for (const workers of [1, 2, 3]) {
      const { rule, report } = await trainParallel(noprop, trainSet, testSet, {
        ...opts,
        workers,
        spawn,
        syncEvery: 4,
      });
      expect(report.plan.mode).toBe('independent');
      expect(report.plan.stages).toHaveLength(workers);
      expect(report.plan.stages.flatMap((s) => s.groups).sort()).toEqual(['block1', 'block2', 'block3', 'head']);
      expectSameWeights(weights(rule), ref.w);
      expect(report.epochs[0].testAccuracy).toBe(ref.accuracy);
      expect(report.stageBytes).toBe(0);
      expect(report.syncBytes).toBeGreaterThan(0);
      rule.dispose();
    }
  });

  it('a plan that gives a stage 2 threads instead of a cut runs it on a 2-thread backend, bit for bit as one thread', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const ref = await reference(noprop);
    // costs under which one stage of 2 threads (31 ms / (31 / 17)) beats the best cut over 2 workers (20 ms)
    const costs = ['block1', 'block2', 'block3', 'head'].map((name, i) => ({
      name,
      ms: i < 3 ? 10 : 1,
      ms2: i < 3 ? 5.5 : 0.5,
      bytes: 1,
    }));
    const { rule, report } = await trainParallel(noprop, trainSet, testSet, {
      ...opts,
      stageThreads: 'auto',
      costs,
      workers: 2,
      spawn,
      syncEvery: 4,
    });
    expect(report.plan.stages.map((s) => [s.groups.length, s.threads])).toEqual([[4, 2]]);
    expect(report.workers.map((w) => w.threads)).toEqual([2]);
    expectSameWeights(weights(rule), ref.w);
    expect(report.epochs[0].testAccuracy).toBe(ref.accuracy);
    rule.dispose();
    // and with stageThreads 1 the same costs give the cut, one thread a stage
    const cut = await trainParallel(noprop, trainSet, testSet, { ...opts, costs, workers: 2, spawn, syncEvery: 4 });
    expect(cut.report.plan.stages.map((s) => s.threads)).toEqual([1, 1]);
    expect(cut.report.workers.map((w) => w.threads)).toEqual([1, 1]);
    expectSameWeights(weights(cut.rule), ref.w);
    cut.rule.dispose();
  });

  it('tpSGD as a forward pipeline matches the one-thread run with 2 and 3 workers; ' +
    'labels travel with the activations', { tags: ['invariant'], timeout: 120_000 }, async () => {
    const ref = await reference(tpsgd);
    for (const workers of [2, 3]) {
      const { rule, report } = await trainParallel(tpsgd, trainSet, testSet, { ...opts, workers, spawn, syncEvery: 4 });
      expect(report.plan.mode).toBe('pipeline');
      expectSameWeights(weights(rule), ref.w, 1e-6);
      // stage 0 sends each sample's hidden activations (512 floats) and label; stage 1 does too when a third stage
      // follows
      const perSample = (512 * 4 + 4) * (workers - 1);
      expect(report.stageBytesPerSample).toBe(perSample);
      rule.dispose();
    }
  });

  it('backprop as a GPipe pipeline matches the one-thread run within float tolerance, ' +
    'and moves errors backward too', { tags: ['invariant'], timeout: 120_000 }, async () => {
    const ref = await reference(backprop);
    const { rule, report } = await trainParallel(backprop, trainSet, testSet, {
      ...opts,
      workers: 2,
      spawn,
      syncEvery: 5,
      microBatches: 4,
    });
    expectSameWeights(weights(rule), ref.w, 2e-4);
    // forward: 512 activations + a label per sample; backward: 512 error values per sample
    expect(report.stageBytesPerSample).toBe(512 * 4 + 4 + 512 * 4);
    rule.dispose();
  });

  it('one pool serves one model after another: a tpSGD pipeline after NoProp trains and counts as on fresh workers', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const pool = new WorkerPool(spawn, 2);
    try {
      // NoProp leaves its data on both workers; the pipeline after it must not read it on stage 1
      const first = await trainParallel(noprop, trainSet, testSet, { ...opts, workers: 2, pool, syncEvery: 4 });
      first.rule.dispose();
      const ref = await reference(tpsgd);
      for (let run = 0; run < 2; run++) {
        const { rule, report } = await trainParallel(tpsgd, trainSet, testSet, {
          ...opts,
          workers: 2,
          pool,
          syncEvery: 4,
        });
        expectSameWeights(weights(rule), ref.w, 1e-6);
        // this run's bytes only, not the earlier runs' too
        expect(report.stageBytesPerSample, `run ${run}`).toBe(512 * 4 + 4);
        rule.dispose();
      }
    } finally {
      await pool.close();
    }
  });

  it('a worker killed mid-epoch is restarted from the last synced copy; ' + 'the replay gives the same weights', {
    tags: ['behaviour'],
    timeout: 120_000,
  }, async () => {
    const ref = await reference(noprop);
    const killed: number[] = [];
    const { rule, report } = await trainParallel(noprop, trainSet, testSet, {
      ...opts,
      workers: 2,
      spawn,
      syncEvery: 3,
      onChunkStart: ({ chunk }, pool) => {
        if (chunk === 1) {
          killed.push(chunk);
          void pool.kill(1);
        }
      },
    });
    expect(killed).toEqual([1]);
    expect(report.restarts).toHaveLength(1);
    expect(report.restarts[0]).toMatchObject({ epoch: 0, chunk: 1, replayedSteps: 3 });
    expect(report.restarts[0].reason).toMatch(/stage 1/);
    expectSameWeights(weights(rule), ref.w);
    rule.dispose();

    const tpRef = await reference(tpsgd);
    const tp = await trainParallel(tpsgd, trainSet, testSet, {
      ...opts,
      workers: 2,
      spawn,
      syncEvery: 4,
      onChunkStart: ({ chunk }, pool) => {
        if (chunk === 2) void pool.kill(0);
      },
    });
    expect(tp.report.restarts.map((r) => r.chunk)).toEqual([2]);
    expectSameWeights(weights(tp.rule), tpRef.w, 1e-6);
    tp.rule.dispose();
  });

  it('a stage that throws is a typed error naming it; a hung call times out and its worker is stopped', {
    tags: ['behaviour'],
    timeout: 60_000,
  }, async () => {
    const pool = new WorkerPool(spawn, 2);
    try {
      await pool.call(0, 'block1', (s) => s.init({ rule: noprop, label: 'stage 0' }));
      await pool.call(0, 'block1', (s) => s.setData(trainSet, { batchSize: 32, seed: 1 }));
      const thrown = await pool.call(0, 'block1', (s) => s.trainGroups(['block9'], [1e-3])).catch((e: unknown) => e);
      expect(thrown).toBeInstanceOf(LayerhiveError);
      // the worker's own code and hint cross the thread; the message and `stage` name the stage
      expect((thrown as LayerhiveError).code).toBe('INVALID_ARGUMENT');
      expect((thrown as Error).message).toMatch(/stage 0 \(block1\) threw: .*no group 'block9'/);
      expect((thrown as LayerhiveError).stage).toBe('stage 0 (block1)');
      expect((thrown as LayerhiveError).hint).toMatch(/use one of: block1,/);
      const shape = await pool
        .call(0, 'block1', (s) => s.explainScores(new Float32Array(10), 1))
        .catch((e: unknown) => e);
      expect(shape).toBeInstanceOf(LayerhiveError);
      expect((shape as LayerhiveError).code).toBe('SHAPE_MISMATCH');
      expect((shape as LayerhiveError).stage).toBe('stage 0 (block1)');
      expect(pool.isDead(0)).toBe(false); // a throw leaves the worker usable

      await pool.call(1, 'segment1', (s) => s.init({ rule: tpsgd, label: 'stage 1' }));
      const { port1, port2 } = new MessageChannel();
      await pool.call(1, 'segment1', (s) => s.connect(Comlink.transfer({ prev: port2, next: null }, [port2])));
      const hung = await pool
        .call(1, 'segment1', (s) => s.trainPipeline({ first: 1, end: 3, lrs: [1e-3], microBatches: 1 }), 300)
        .catch((e: unknown) => e);
      expect((hung as LayerhiveError).code).toBe('TIMEOUT');
      expect((hung as Error).message).toMatch(/stage 1 \(segment1\) did not answer within 300 ms/);
      expect(pool.isDead(1)).toBe(true);
      port1.close();
      const after = await pool.call(1, 'segment1', (s) => s.stats()).catch((e: unknown) => e);
      expect((after as LayerhiveError).code).toBe('WORKER_FAILED');
    } finally {
      await pool.close();
    }
  });

  it('settings refused before training start no worker (nothing left running for the caller to close)', {
    tags: ['behaviour'],
  }, async () => {
    let spawned = 0;
    const counting: Spawner = () => {
      spawned++;
      return spawn();
    };
    const run = trainParallel(noprop, trainSet, testSet, { ...opts, batchSize: 0, workers: 2, spawn: counting });
    await expect(run).rejects.toThrow(/batch size 0 is not a positive integer/);
    expect(spawned).toBe(0);
  });

  it('pipelined inference gives the same outputs with 1, 2 and 3 workers as a one-thread predict', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const rule = createRule(backprop, wasmRelaxed);
    await train(rule, trainSet, testSet, { ...opts, epochs: 1 });
    const x = lh.normalizePixels(testSet.images.subarray(0, 100 * 784));
    const expected = tidy(() => rule.predict(lh.tensor(x, [100, 1, 28, 28], 'float32', wasmRelaxed)).dataSync());
    for (const workers of [1, 2, 3]) {
      const m = await PipelinedModel.create(backprop, rule, { workers, spawn, stageThreads: 1 });
      try {
        const out = await m.predict(x, [100, 1, 28, 28], 16);
        expect(out.shape).toEqual([100, 10]);
        expect(
          Buffer.from(out.data.buffer).equals(Buffer.from(Float32Array.from(expected).buffer)),
          `${workers} workers`,
        ).toBe(true);
        expect(m.plan.stages).toHaveLength(workers);
      } finally {
        await m.close();
      }
    }
    rule.dispose();
  });
});
