/** Real MNIST, small: each rule learns 2 000 training images for one epoch and is scored on 1 000 test images. */
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { createRule } from '../../../src/learn/create.js';
import { modelSpec } from '../../../src/learn/models.js';
import { train } from '../../../src/learn/trainer.js';
import type { RuleName } from '../../../src/learn/rule.js';
import { wasmRelaxed } from '../helpers.js';

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 2000), testSet = subset(mnist.test, 0, 1000);

async function oneEpoch(rule: RuleName, lr: number, extra: object = {}) {
  const r = createRule({ rule, spec: modelSpec('mlp', [1, 28, 28], 10), classes: 10, optimizer: { type: 'adam', lr }, seed: 1, ...extra }, wasmRelaxed);
  const { epochs } = await train(r, trainSet, testSet, { epochs: 1, batchSize: 32, seed: 2, lr });
  r.dispose();
  console.log(rule, JSON.stringify(extra), epochs[0]);
  return epochs[0].testAccuracy;
}

describe('learning rules on a 2 000-image MNIST subset (one epoch, MLP)', () => {
  it('backprop beats 80%', async () => expect(await oneEpoch('backprop', 1e-3)).toBeGreaterThan(0.8));
});
