import { it } from 'vitest';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { createRule } from '../../../src/learn/create.js';
import { train } from '../../../src/learn/trainer.js';
import type { LayerSpec } from '../../../src/nn/layer.js';
import { wasmRelaxed } from '../helpers.js';

const mnist = await loadMnist();
const N = Number(process.env.NTRAIN ?? 2000), NT = Number(process.env.NTEST ?? 1000);
const trainSet = subset(mnist.train, 0, N), testSet = subset(mnist.test, 0, NT);

function spec(act: string, width: number, bn: boolean, depth = 2) {
  const layers: LayerSpec[] = [{ type: 'flatten' }];
  for (let i = 0; i < depth; i++) {
    layers.push({ type: 'dense', units: width });
    if (bn) layers.push({ type: 'batchnorm' });
    layers.push({ type: act as 'tanh' });
  }
  layers.push({ type: 'dense', units: 10 });
  return { input: [1, 28, 28], layers };
}

it('scratch', async () => {
  const configs = JSON.parse(process.env.CONFIGS ?? '[{}]');
  const seeds = JSON.parse(process.env.SEEDS ?? '[1,2,3]');
  for (const c1 of configs) for (const seed of seeds) {
    const c0 = { seed, ...c1 };
    const c = { rule: 'tpsgd', act: 'tanh', width: 512, bn: false, lr: 1e-3, bs: 32, seed: 1, epochs: 1, opt: 'adam', ...c0 };
    const t0 = performance.now();
    const r = createRule({ rule: c.rule, spec: spec(c.act, c.width, c.bn), classes: 10, optimizer: { type: c.opt, lr: c.lr }, seed: c.seed,
      localLoss: c.loss, tpsgd: { projection: c.proj, projectionScale: c.scale, hiddenLrScale: c.hlr, outputLrScale: c.olr } }, wasmRelaxed);
    const { epochs } = await train(r, trainSet, testSet, { epochs: c.epochs, batchSize: c.bs, seed: c.seed + 1, lr: c.lr,
      schedule: c.cos ? { type: 'cosine', totalSteps: Math.ceil(N / c.bs) * c.epochs } : undefined });
    r.dispose();
    console.log('RESULT', JSON.stringify(c0), epochs.map((e) => (e.testAccuracy * 100).toFixed(1)).join(' '), ((performance.now() - t0) / 1000).toFixed(1) + 's');
  }
}, 3_600_000);
