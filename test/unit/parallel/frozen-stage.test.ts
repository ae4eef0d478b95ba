/**
 * A frozen stage: the first layers of a trained network, exported to ONNX, run by onnxruntime-web in a stage
 * worker (Node worker_threads here, Web Workers in e2e); heads trained on its features by tpSGD and NoProp-DT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRule,
  evaluate,
  exportOnnx,
  FrozenStage,
  train,
  trainOnFrozen,
  tensor,
  tidy,
  type LearningRule,
  type RuleConfig,
} from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { BatchIterator } from '../../../src/data/batches.js';
import type { Sequential } from '../../../src/nn/sequential.js';
import { expectClose, wasmRelaxed } from '../helpers.js';

const spawn = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));
const mnist = await loadMnist();
const base: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 1,
  optimizer: { type: 'adam', lr: 2e-3 },
};
let shipped: LearningRule, bytes: Uint8Array, stage: FrozenStage;

beforeAll(async () => {
  // "the model you shipped": an MLP trained briefly; its layers up to the second tanh are the frozen part
  shipped = createRule(base, wasmRelaxed);
  await train(shipped, subset(mnist.train, 0, 2000), subset(mnist.test, 0, 100), {
    epochs: 1,
    batchSize: 32,
    seed: 1,
    lr: 2e-3,
  });
  bytes = await exportOnnx(shipped, { upTo: 5 });
  stage = await FrozenStage.open(bytes, [1, 28, 28], { spawn });
}, 60_000);
afterAll(async () => {
  await stage?.close();
  shipped?.dispose();
});

describe('frozen stage', () => {
  it('computes the same features in onnxruntime (worker) as layerhive in this thread', {
    tags: ['outside'],
  }, async () => {
    const b = new BatchIterator(subset(mnist.test, 0, 16), { batchSize: 16, shuffle: false }).next();
    const f = await stage.features(b.x, 16);
    expect(f.shape).toEqual([16, 512]);
    const model = (shipped as unknown as { model: Sequential }).model;
    const ours = tidy(
      () =>
        model
          .forwardWithCache(tensor(b.x, [16, 1, 28, 28], 'float32', wasmRelaxed), { training: false }, 0, 5)
          .y.dataSync() as Float32Array,
    );
    expectClose(f.data, ours, 1e-4, 1e-5, 'features');
  });

  const heads: [string, RuleConfig][] = [
    [
      'tpSGD (one dense layer: the last layer personalised)',
      {
        rule: 'tpsgd',
        model: 'mlp',
        layers: [{ type: 'dense', units: 10 }],
        inputShape: [512],
        classes: 10,
        seed: 2,
        optimizer: { type: 'adam', lr: 1e-2 },
      },
    ],
    [
      'NoProp-DT (3 MLP blocks)',
      {
        rule: 'noprop-dt',
        model: 'mlp',
        inputShape: [512],
        classes: 10,
        seed: 2,
        optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
        noprop: { T: 3 },
      },
    ],
  ];
  for (const [name, head] of heads)
    it(`trains a ${name} head on its features: > 80% on 500 test images, ` + `within 5 points of the shipped MLP`, {
      tags: ['invariant'],
      timeout: 60_000,
    }, async () => {
      const progress: number[] = [];
      const { rule, epochs } = await trainOnFrozen(
        stage,
        head,
        subset(mnist.train, 2000, 1000),
        subset(mnist.test, 0, 500),
        { epochs: 1, batchSize: 32, seed: 3, lr: head.optimizer.lr, onProgress: (p) => progress.push(p.batch) },
      );
      expect(progress.at(-1)).toBe(32);
      expect(epochs[0].testAccuracy).toBeGreaterThan(0.8);
      const shippedAccuracy = await evaluate((x) => shipped.predict(x), wasmRelaxed, subset(mnist.test, 0, 500));
      expect(epochs[0].testAccuracy).toBeGreaterThan(shippedAccuracy - 0.05);
      rule.dispose();
    });

  it('a head of the wrong width, bytes that are not a model, and no onnxruntime are typed errors', {
    tags: ['behaviour'],
    timeout: 60_000,
  }, async () => {
    const wrong: RuleConfig = { ...heads[0][1], inputShape: [100] };
    await expect(
      trainOnFrozen(stage, wrong, subset(mnist.train, 0, 32), subset(mnist.test, 0, 32), {
        epochs: 1,
        batchSize: 32,
        seed: 1,
        lr: 1e-3,
      }),
    ).rejects.toThrow(/the frozen model gives \[512\] per sample but the head takes \[100\]/);
    await expect(FrozenStage.open(new Uint8Array([1, 2, 3]), [1, 28, 28], { spawn })).rejects.toThrow(
      /onnxruntime refused the frozen model/,
    );
    await expect(FrozenStage.open(bytes, [1, 28, 28], { spawn, ortUrl: 'no-such-runtime' })).rejects.toThrow(
      /onnxruntime-web could not be loaded from no-such-runtime/,
    );
  });
});
