/**
 * A stage worker that stops answering during trainParallel (README "Across workers": "a worker that dies or hangs
 * (every call has a timeout) is replaced, all stages go back to that copy and the steps since are replayed — the
 * replay is exact"). The stage has no hang of its own to inject, so the test's spawner puts a switch on each worker's
 * comlink endpoint: once thrown, nothing passes between that worker and the coordinator, as with a stage stuck in a
 * loop (hung-pipeline.test.ts: a real hang downstream, and a thread that truly spins).
 *
 * The timeout is generous (a call here takes well under a second); the assertions are about the errors, the
 * restarts, the weights and the threads left, never about time.
 */
import { describe, expect, it } from 'vitest';
import { LayerhiveError, trainParallel, type RuleConfig } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { expectSameBits, stageWorkerUrl, trackingSpawner, weights } from './silent-spawner.js';

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 128);
const testSet = subset(mnist.test, 0, 32);
// 4 steps of 32 in chunks of 2: chunks 0 and 1
const opts = { epochs: 1, batchSize: 32, seed: 7, lr: 2e-3, syncEvery: 2, workers: 2, stageThreads: 1 as const };
const noprop: RuleConfig = {
  rule: 'noprop-dt',
  model: 'mlp',
  noprop: { T: 3 },
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 3,
  optimizer: { type: 'adamw', lr: 2e-3, weightDecay: 1e-3 },
};
// a worker's first init takes ~1 s on the 2-core machine at load 10; a chunk, milliseconds
const TIMEOUT = 5000;
const answeredLate = new RegExp(`^stage (\\d) \\(.+\\) did not answer within ${TIMEOUT} ms`);

describe('a hung stage during trainParallel', { tags: ['behaviour'] }, () => {
  it('a NoProp stage that stops answering mid-epoch times out naming it, is replaced, and the replay is exact; ' +
    'no worker is left running', async () => {
    // the same run without the fault: what the replay must reproduce
    const clean = trackingSpawner(stageWorkerUrl);
    const ref = await trainParallel(noprop, trainSet, testSet, { ...opts, spawn: clean.spawn, timeoutMs: TIMEOUT });
    expect(ref.report.restarts).toEqual([]);
    const expected = weights(ref.rule);
    ref.rule.dispose();

    const { spawn, workers } = trackingSpawner(stageWorkerUrl);
    const silenced: number[] = [];
    const { rule, report } = await trainParallel(noprop, trainSet, testSet, {
      ...opts,
      spawn,
      timeoutMs: TIMEOUT,
      onChunkStart: ({ chunk }) => {
        if (chunk !== 1) return;
        silenced.push(chunk);
        workers[1].silence(); // stage 1's worker (the second spawned) goes quiet as chunk 1 starts
      },
    });
    expect(silenced).toEqual([1]);
    expect(report.restarts).toHaveLength(1);
    expect(report.restarts[0]).toMatchObject({ epoch: 0, chunk: 1, replayedSteps: 2 });
    expect(report.restarts[0].reason).toMatch(answeredLate);
    expect(report.restarts[0].reason.match(answeredLate)?.[1]).toBe('1');
    expectSameBits(weights(rule), expected);
    rule.dispose();
    // the hung worker was stopped and one more started in its place; after the run every thread has exited
    expect(workers).toHaveLength(3);
    expect(workers.map((w) => w.exited)).toEqual([true, true, true]);
    expect(clean.workers.map((w) => w.exited)).toEqual([true, true]);
  }, 60_000);

  it('with no restarts allowed the hang is a TIMEOUT LayerhiveError naming the stage; workers released', async () => {
    const { spawn, workers } = trackingSpawner(stageWorkerUrl);
    const run = trainParallel(noprop, trainSet, testSet, {
      ...opts,
      spawn,
      timeoutMs: TIMEOUT,
      maxRestarts: 0,
      onChunkStart: ({ chunk }) => {
        if (chunk === 1) workers[0].silence();
      },
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerhiveError);
    expect((err as LayerhiveError).code).toBe('TIMEOUT');
    expect((err as Error).message.match(answeredLate)?.[1]).toBe('0');
    expect(workers).toHaveLength(2); // nothing was restarted
    expect(workers.map((w) => w.exited)).toEqual([true, true]);
  }, 60_000);
});
