// @module-tag invariant
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { tensor } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { BatchIterator } from '../../../src/data/batches.js';
import { createRule, type RuleConfig } from '../../../src/learn/create.js';
import { train } from '../../../src/learn/trainer.js';
import type { NoPropCT } from '../../../src/learn/noprop/ct.js';
import { wasmRelaxed } from '../helpers.js';

const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 2000),
  testSet = subset(mnist.test, 0, 1000);
const config = (rule: RuleConfig['rule'], seed = 1, noprop: RuleConfig['noprop'] = {}): RuleConfig => ({
  rule,
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
  seed,
  noprop,
});
const snapshot = (m: Map<string, lh.Tensor>) => new Map([...m].map(([k, t]) => [k, Array.from(t.dataSync())]));

async function accuracy(c: RuleConfig, epochs: number): Promise<number> {
  const r = createRule(c, wasmRelaxed);
  const steps = epochs * Math.ceil(trainSet.count / 32);
  const { epochs: e } = await train(r, trainSet, testSet, {
    epochs,
    batchSize: 32,
    seed: 2,
    lr: 1e-3,
    schedule: { type: 'cosine', totalSteps: steps },
  });
  r.dispose();
  return e[e.length - 1].testAccuracy;
}

describe('NoProp-CT and NoProp-FM', () => {
  it('CT schedule runs from noise to nearly clean with a log-linear SNR', () => {
    const r = createRule(config('noprop-ct'), wasmRelaxed) as NoPropCT;
    expect(r.alphaBar(0)).toBeCloseTo(1 / (1 + Math.exp(7)), 8);
    expect(r.alphaBar(1)).toBeCloseTo(1 / (1 + Math.exp(-7)), 8);
    const snr = (t: number) => r.alphaBar(t) / (1 - r.alphaBar(t));
    expect(Math.log(snr(0.75)) - Math.log(snr(0.25))).toBeCloseTo(7, 6);
    r.dispose();
  });

  it(
    'CT learns a 2 000-image subset in one epoch, ' +
      'uniformly weighted (the default) and with the paper’s SNR′ weighting',
    async () => {
      // measured 0.803 and 0.602 (deterministic for the seed; this machine, the command below). The SNR′ run varies
      // with the draws: seeds 1–8 gave 0.602 0.607 0.595 0.651 0.504 0.647 0.635 0.652 with named streams, and
      // 0.650 0.659 0.619 0.639 0.605 0.643 0.610 0.674 with the seed arithmetic before them
      expect(await accuracy(config('noprop-ct'), 1)).toBeGreaterThan(0.76);
      expect(await accuracy(config('noprop-ct', 1, { weighting: 'snr-derivative' }), 1)).toBeGreaterThan(0.56);
    },
  );

  it('FM learns the subset in three epochs (well above chance)', async () => {
    // measured 0.528 on a 2-core Xeon @ 2.50GHz container (0.545 before named random streams, 0.470 before inference
    // noise was shared by the rows)
    // (npx vitest run --project unit test/unit/learn/noprop-ct-fm.test.ts)
    expect(await accuracy(config('noprop-fm'), 3)).toBeGreaterThan(0.5);
  });

  it.each(['noprop-ct', 'noprop-fm'] as const)('%s is deterministic: same seed → identical weights', (rule) => {
    const b = new BatchIterator(trainSet, { batchSize: 32, seed: 3 });
    const batches = [b.next(), b.next()];
    const [r1, r2, r3] = [
      createRule(config(rule), wasmRelaxed),
      createRule(config(rule), wasmRelaxed),
      createRule(config(rule, 2), wasmRelaxed),
    ];
    for (const r of [r1, r2, r3])
      for (const bt of batches)
        lh.tidy(() => {
          r.trainStep(
            tensor(bt.x, bt.shape, 'float32', wasmRelaxed),
            tensor(bt.y, [bt.y.length], 'int32', wasmRelaxed),
          );
        });
    const [a, c, d] = [snapshot(r1.params()), snapshot(r2.params()), snapshot(r3.params())];
    for (const [k, v] of a) expect(c.get(k), k).toEqual(v);
    expect(d.get('net.image.1.weight')).not.toEqual(a.get('net.image.1.weight'));
  });
});
