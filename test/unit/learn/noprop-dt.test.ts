// @module-tag invariant
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { Rng, tensor, tidy } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { BatchIterator } from '../../../src/data/batches.js';
import { createOptimizer } from '../../../src/learn/optim/index.js';
import { train } from '../../../src/learn/trainer.js';
import { NoPropDT, type NoPropOptions } from '../../../src/learn/noprop/dt.js';
import { cosineSchedule } from '../../../src/learn/noprop/schedule.js';
import { Block } from '../../../src/learn/noprop/block.js';
import { blockSpec } from '../../../src/learn/noprop/block-specs.js';
import { wasmRelaxed } from '../helpers.js';

const mnist = await loadMnist();
const make = (o: Partial<NoPropOptions> = {}) =>
  new NoPropDT(wasmRelaxed, () => createOptimizer({ type: 'adamw', lr: 1e-3, weightDecay: 1e-3 }), {
    inputShape: [1, 28, 28],
    classes: 10,
    T: 4,
    seed: 1,
    ...o,
  });
const snapshot = (m: Map<string, lh.Tensor>) => new Map([...m].map(([k, t]) => [k, Array.from(t.dataSync())]));
const batch = () => {
  const b = new BatchIterator(subset(mnist.train, 0, 64), { batchSize: 32, seed: 3 }).next();
  return { x: tensor(b.x, b.shape, 'float32', wasmRelaxed), y: tensor(b.y, [b.y.length], 'int32', wasmRelaxed) };
};

describe('NoProp-DT', () => {
  it('the schedule runs from noise (ᾱ_0 = 0) to nearly clean, and its posterior coefficients are consistent', () => {
    const s = cosineSchedule(10);
    expect(s.alphaBar[0]).toBeCloseTo(0, 12);
    expect(s.alphaBar[10]).toBeCloseTo(0.9999, 6);
    for (let t = 1; t <= 10; t++) expect(s.alphaBar[t]).toBeGreaterThan(s.alphaBar[t - 1]);
    // the posterior mean of z_t given a clean u and z_{t−1} = √ᾱ_{t−1}·u has the marginal's mean √ᾱ_t·u
    for (let t = 1; t <= 10; t++)
      expect(s.a[t] + s.b[t] * Math.sqrt(s.alphaBar[t - 1])).toBeCloseTo(Math.sqrt(s.alphaBar[t]), 10);
  });

  it('MLP blocks learn a 2 000-image MNIST subset in one epoch: > 80% on 1 000 test images', async () => {
    const r = make({ T: 10 });
    const { epochs } = await train(r, subset(mnist.train, 0, 2000), subset(mnist.test, 0, 1000), {
      epochs: 1,
      batchSize: 32,
      seed: 2,
      lr: 1e-3,
    });
    r.dispose();
    expect(epochs[0].testAccuracy).toBeGreaterThan(0.8);
  });

  it("a block's update does not change when every other block and the head are perturbed", () => {
    const { x, y } = batch();
    const [a, b] = [make(), make()];
    for (const [name, p] of b.params()) {
      if (name.startsWith('block2.')) continue;
      tidy(() => lh.assign(p, lh.add(p, lh.randomNormal(p.shape, new Rng(77), 0, 0.5, wasmRelaxed))));
    }
    const before = snapshot(a.params());
    a.trainBlock(2, x, y);
    b.trainBlock(2, x, y);
    const [pa, pb] = [snapshot(a.params()), snapshot(b.params())];
    let changed = 0;
    for (const [k, v] of pa) {
      if (!k.startsWith('block2.')) continue;
      expect(pb.get(k), k).toEqual(v);
      if (v.some((e, i) => e !== before.get(k)![i])) changed++;
    }
    expect(changed).toBeGreaterThan(4); // the block really learned
  });

  it('is deterministic and independent of block order: same seed → identical weights', () => {
    const { x, y } = batch();
    const [a, b] = [make(), make()];
    for (let s = 0; s < 2; s++) {
      for (let t = 1; t <= 4; t++) a.trainBlock(t, x, y);
      a.trainHead(y);
      for (let t = 4; t >= 1; t--) b.trainBlock(t, x, y); // another order, as workers would finish
      b.trainHead(y);
    }
    const [pa, pb] = [snapshot(a.params()), snapshot(b.params())];
    for (const [k, v] of pa) expect(pb.get(k), k).toEqual(v);
    expect(snapshot(make().params()).get('block1.image.1.weight')).not.toEqual(pa.get('block1.image.1.weight'));
  });

  it('blocks and inference draw from streams named by (seed, name) alone, whatever T is', () => {
    // blocks were seeded seed·1000 + t, their noise seed·1000 + 500 + t and the head seed·1000 + 998: from T = 498 on,
    // a block trained on the head's noise. Now block t's weights come from 'noprop/block/<t>/init', at any T.
    const r = make({ T: 3 });
    const alone = new Block(blockSpec('mlp', 10), [1, 28, 28], 10, wasmRelaxed, Rng.stream(1, 'noprop/block/2/init'));
    const [pr, pa] = [snapshot(r.blocks[1].namedParams()), snapshot(alone.namedParams())];
    for (const [k, v] of pa) expect(pr.get(k), k).toEqual(v);
    // z_0 of inference: named by default; a rule built from a config without `streams` keeps seed + 7
    const z0 = (n: NoPropDT) => Array.from(n.initialNoise(1).z.dataSync());
    const normals = (rng: Rng) => Array.from(rng.fillNormal(new Float32Array(10)));
    expect(z0(r)).toEqual(normals(Rng.stream(1, 'noprop/inference')));
    const legacy = make({ streams: 'legacy' });
    expect(z0(legacy)).toEqual(normals(new Rng(1 + 7)));
    for (const n of [r, legacy]) n.dispose();
  });

  it('declares one independent group per block plus the head', () => {
    const groups = make().groups();
    expect(groups.map((g) => g.name)).toEqual(['block1', 'block2', 'block3', 'block4', 'head']);
    expect(groups.every((g) => g.waitsFor.length === 0 && !g.reads.some((r) => r.startsWith('output:')))).toBe(true);
  });
});
