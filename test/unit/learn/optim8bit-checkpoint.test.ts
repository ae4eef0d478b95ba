/**
 * Checkpoints of an 8-bit Adam run: 2 epochs straight equal 1 epoch, save, load into a new rule, 1 more epoch, bit for
 * bit (with and without `--quantize`: the codes are stored as bytes, exactly); a checkpoint of a 32-bit run goes on
 * training with 8-bit state (its moments quantised on restore).
 */
import { describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  captureCheckpoint,
  createRule,
  restoreRule,
  train,
  type LearningRule,
  type RuleConfig,
} from '../../../src/index.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { encodeCheckpoint } from '../../../src/store/codec.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { wasmRelaxed } from '../helpers.js';

const root = fileURLToPath(new URL('../../../.tmp/optim8bit-checkpoint/', import.meta.url));
const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 192),
  testSet = subset(mnist.test, 0, 100);

const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 3,
  optimizer: { type: 'adam8bit', lr: 2e-3 },
};
const options = { epochs: 2, batchSize: 32, seed: 7, lr: 2e-3, schedule: { type: 'cosine' as const, totalSteps: 12 } };

async function state(rule: LearningRule): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const g of rule.groups()) {
    const s = await rule.saveGroup(g.name);
    for (const [k, t] of Object.entries(s.tensors)) out.set(`${g.name}/${k}`, t.data);
    for (const [k, t] of Object.entries(s.optimizer.slots)) out.set(`${g.name}/slot/${k}`, t.data);
  }
  return out;
}

describe('8-bit Adam through the checkpoint store', { tags: ['invariant'] }, () => {
  for (const quantize of [false, true]) {
    it(`resumes bit for bit${quantize ? ' (quantize: codes stored as bytes)' : ''}`, async () => {
      const straight = createRule(config, wasmRelaxed);
      await train(straight, trainSet, testSet, options);

      rmSync(`${root}${quantize}`, { recursive: true, force: true });
      const store = new FsCheckpointStore(`${root}${quantize}`);
      const first = createRule(config, wasmRelaxed);
      await train(first, trainSet, testSet, {
        ...options,
        epochs: 1,
        onEpoch: async (_e, cursor, rule) => {
          const ck = await captureCheckpoint(rule, config, { cursor });
          // the codes are one exact byte each; the block maxima f32 (the optimizer's other 8-bit code would blur them)
          const { manifest } = await encodeCheckpoint(ck, { optimizer: quantize });
          const codes = manifest.records.filter((r) => r.key.endsWith('.codes'));
          expect(codes.length).toBeGreaterThan(0);
          for (const r of codes) expect([r.encoding, r.bytes]).toEqual(['u8', r.shape.reduce((x, d) => x * d, 1)]);
          for (const r of manifest.records.filter((x) => x.key.endsWith('.absmax'))) expect(r.encoding).toBe('f32');
          await store.save('r', ck, quantize ? { quantize: { optimizer: true } } : {});
        },
      });
      first.dispose();
      const loaded = await store.load('r');
      const slots = Object.keys(loaded.groups[Object.keys(loaded.groups)[0]].optimizer.slots);
      expect(slots.some((k) => k.endsWith('/m.codes'))).toBe(true);
      const resumed = restoreRule(loaded, wasmRelaxed);
      await train(resumed, trainSet, testSet, { ...options, cursor: loaded.cursor! });

      const [a, b] = [await state(straight), await state(resumed)];
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, t] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(t.buffer)), k).toBe(true);
      straight.dispose();
      resumed.dispose();
    });
  }

  it('a checkpoint of a 32-bit Adam run trains on with 8-bit state', async () => {
    const adam = { ...config, optimizer: { type: 'adam' as const, lr: 2e-3 } };
    const rule = createRule(adam, wasmRelaxed);
    await train(rule, trainSet, testSet, { ...options, epochs: 1 });
    const ck = await captureCheckpoint(rule, adam, {});
    rule.dispose();
    const eight = restoreRule(
      { ...ck, config: { ...ck.config, optimizer: { type: 'adam8bit', lr: 2e-3 } } },
      wasmRelaxed,
    );
    const s = await state(eight);
    const codes = [...s.keys()].filter((k) => k.endsWith('/m.codes'));
    expect(codes.length).toBeGreaterThan(0);
    // the quantised moments are not all one code: the saved m was taken, not zeros
    expect(new Set(s.get(codes[0])).size).toBeGreaterThan(10);
    const r = await train(eight, trainSet, testSet, { ...options, epochs: 1 });
    expect(Number.isFinite(r.epochs[0].trainLoss)).toBe(true);
    expect(r.epochs[0].testAccuracy).toBeGreaterThan(0.3);
    eight.dispose();
  });
});
