/**
 * Hangs that are real threads' (see hung-worker.test.ts for the NoProp case): in the tpSGD pipeline a first stage
 * cut off from the coordinator leaves the second stage waiting on its port for activations that never come; and a
 * stand-in stage whose call spins forever checks that the pool stops a thread that is truly busy.
 *
 * The timeouts are generous; the assertions are about the errors, the restarts, the weights and the threads left.
 */
import { describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import { LayerhiveError, trainParallel, WorkerPool, type RuleConfig } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { expectSameBits, stageWorkerUrl, trackingSpawner, weights } from './silent-spawner.js';

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 128);
const testSet = subset(mnist.test, 0, 32);
// 4 steps of 32 in chunks of 2: chunks 0 and 1
const opts = { epochs: 1, batchSize: 32, seed: 7, lr: 2e-3, syncEvery: 2, workers: 2, stageThreads: 1 as const };
const tpsgd: RuleConfig = {
  rule: 'tpsgd',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 3,
  optimizer: { type: 'adamw', lr: 2e-3, weightDecay: 1e-3 },
};
const TIMEOUT = 5000;

describe('a hung stage in the tpSGD pipeline', { tags: ['behaviour'] }, () => {
  it('a silent first stage leaves the second waiting on its port; the chunk times out, the stages are brought ' +
    'back and the replay is exact; no worker is left running', async () => {
    const clean = trackingSpawner(stageWorkerUrl);
    const ref = await trainParallel(tpsgd, trainSet, testSet, { ...opts, spawn: clean.spawn, timeoutMs: TIMEOUT });
    expect(ref.report.restarts).toEqual([]);
    const expected = weights(ref.rule);
    ref.rule.dispose();

    const { spawn, workers } = trackingSpawner(stageWorkerUrl);
    const { rule, report } = await trainParallel(tpsgd, trainSet, testSet, {
      ...opts,
      spawn,
      timeoutMs: TIMEOUT,
      onChunkStart: ({ chunk }) => {
        if (chunk === 1) workers[0].silence();
      },
    });
    expect(report.plan.mode).toBe('pipeline');
    expect(report.restarts).toHaveLength(1);
    expect(report.restarts[0]).toMatchObject({ epoch: 0, chunk: 1, replayedSteps: 2 });
    // both stages time out together (the second waits on the first); the one whose call timed out first is named,
    // however long each thread then takes to end
    expect(report.restarts[0].reason).toMatch(new RegExp(`^stage 0 \\(.+\\) did not answer within ${TIMEOUT} ms`));
    expectSameBits(weights(rule), expected);
    rule.dispose();
    expect(workers.length).toBeGreaterThanOrEqual(3);
    expect(workers.every((w) => w.exited)).toBe(true);
    expect(clean.workers.map((w) => w.exited)).toEqual([true, true]);
  }, 60_000);
});

describe('a worker stuck in a loop', { tags: ['behaviour'] }, () => {
  const require = createRequire(import.meta.url);
  // a stand-in stage: answers name() at once; spin() loops forever, so its thread never answers again
  const code = `
    const { parentPort } = require('node:worker_threads');
    const Comlink = require(${JSON.stringify(require.resolve('comlink'))});
    const nodeEndpoint = require(${JSON.stringify(require.resolve('comlink/dist/umd/node-adapter.js'))});
    Comlink.expose({ name() { return 'spinner'; }, spin() { for (;;) {} } }, nodeEndpoint(parentPort));
  `;
  /** What the stand-in exposes (the pool types its remote as a StageHost; this one has other methods). */
  interface Spinner {
    name(): Promise<string>;
    spin(): Promise<void>;
  }
  const as = (s: unknown) => s as Spinner;

  it('is a TIMEOUT naming stage and call; its thread is stopped, the pool goes on, restart replaces it', async () => {
    const { spawn, workers } = trackingSpawner(null, code);
    const pool = new WorkerPool(spawn, 2, { timeoutMs: 3000 });
    try {
      const long = 60_000; // calls that answer at once get a long timeout: only the spinning one may time out
      expect(await pool.call(1, 'warm-up', (s) => as(s).name(), long)).toBe('spinner');
      const err = await pool.call(1, 'block2', (s) => as(s).spin()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LayerhiveError);
      expect((err as LayerhiveError).code).toBe('TIMEOUT');
      expect((err as Error).message).toMatch(/^stage 1 \(block2\) did not answer within 3000 ms/);
      expect(pool.isDead(1)).toBe(true);
      // the spinning thread is terminated (in the background: the error comes first), not left burning a core
      await vi.waitFor(() => expect(workers[1].exited).toBe(true), { timeout: 10_000 });
      expect(workers[0].exited).toBe(false);
      expect(await pool.call(0, 'other', (s) => as(s).name(), long)).toBe('spinner');
      const gone = await pool.call(1, 'block2', (s) => as(s).name(), long).catch((e: unknown) => e);
      expect((gone as LayerhiveError).code).toBe('WORKER_FAILED');
      expect((gone as Error).message).toMatch(/^stage 1 \(block2\): the worker is gone/);
      await pool.restart(1);
      expect(workers).toHaveLength(3);
      expect(await pool.call(1, 'after restart', (s) => as(s).name(), long)).toBe('spinner');
    } finally {
      await pool.close();
    }
    expect(workers.map((w) => w.exited)).toEqual([true, true, true]);
  }, 60_000);
});
