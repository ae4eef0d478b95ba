// Shared by the fault tests (faults-*.test.ts): a small model every client builds the same, MNIST shards, a run of
// federated/app on a real Flower 1.42 SuperLink, and waiting for its summary.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalFlower, writeArrays } from '../../../federated/local-flower.mjs';
import type { Backend } from '../../../src/backend/backend.js';
import { MNIST_NORMALIZATION } from '../../../src/data/batches.js';
import { type ImageDataset, subset } from '../../../src/data/dataset.js';
import type { FlowerArray } from '../../../src/federated/records.js';
import { ruleClientApp } from '../../../src/federated/rule-client.js';
import type { RuleConfig } from '../../../src/learn/create.js';

/** What `layerhive federate --hidden 32 --seed 7 --lr 0.05` builds; the fault tests' in-process nodes build it too. */
export const faultConfig = (hidden = 32): RuleConfig => ({
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: hidden }, { type: 'tanh' }, { type: 'dense', units: 10 }],
  inputShape: [1, 28, 28],
  classes: 10,
  optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  seed: 7,
  streams: 'named',
});

/** Small rounds: one local epoch on a few hundred images, so that a fault, not training, sets the test's time. */
export const quickRounds = { 'local-epochs': 1, lr: 0.05, 'batch-size': 32 };

/** Client i's ClientApp in this process: MNIST training images [400·i, 400·i + 400) and test images from 200·i. */
export const shardApp = (
  config: RuleConfig,
  backend: Backend,
  mnist: { train: ImageDataset; test: ImageDataset },
  i: number,
) =>
  ruleClientApp({
    config,
    backend,
    trainSet: subset(mnist.train, i * 400, 400),
    testSet: subset(mnist.test, i * 200, 200),
    normalization: MNIST_NORMALIZATION,
  });

export const workDir = () => mkdtempSync(join(tmpdir(), 'layerhive-fl-faults-'));

/** Writes `arrays` as a run's init-dir and starts `flwr run`; returns the run's id and out-dir (summary.json last). */
export function startRun(
  flower: LocalFlower,
  work: string,
  name: string,
  arrays: Map<string, FlowerArray>,
  config: Record<string, string | number | boolean>,
): { runId: string; out: string } {
  const init = join(work, `${name}-init`);
  mkdirSync(init, { recursive: true });
  writeArrays(
    init,
    [...arrays].map(([n, a]) => [n, a.data]),
  );
  const out = join(work, `${name}-out`);
  const said = flower.run({ 'init-dir': init, 'out-dir': out, ...quickRounds, ...config });
  const runId = /started run (\d+)/.exec(said)?.[1];
  if (!runId) throw new Error(`flwr run did not start a run:\n${said}`);
  return { runId, out };
}

/** The strategy's count of each round's replies in the ServerApp's log: [results, failures] per aggregation. */
export function replyCounts(log: string, kind: 'train' | 'evaluate'): [number, number][] {
  const re = new RegExp(`aggregate_${kind}: Received (\\d+) results and (\\d+) failures`, 'g');
  return [...log.matchAll(re)].map((m) => [Number(m[1]), Number(m[2])]);
}

export interface Summary {
  rounds: { round: number; t: number }[];
  train: Record<string, Record<string, number>>;
  evaluate: Record<string, Record<string, number>>;
}

/** Waits for the ServerApp's summary.json (written when the strategy has finished every round). */
export async function waitForSummary(
  flower: LocalFlower,
  run: { runId: string; out: string },
  seconds: number,
): Promise<Summary> {
  const file = join(run.out, 'summary.json');
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > seconds * 1000) {
      let serverApp = '';
      try {
        serverApp = flower.runLog(run.runId);
      } catch (e) {
        serverApp = String(e);
      }
      throw new Error(
        `no summary after ${seconds} s; the ServerApp's log:\n${serverApp.slice(-6000)}\n` +
          `the SuperLink's:\n${flower.superlinkLog().slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 100)); // written in one call; let it land
  return JSON.parse(readFileSync(file, 'utf8')) as Summary;
}

/** Resolves once `test` holds, checking every 100 ms; rejects after `seconds`. */
export async function until(test: () => boolean, seconds: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!test()) {
    if (Date.now() - t0 > seconds * 1000) throw new Error(`${what}: not after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
