/**
 * The file-system CheckpointStore: exact resume (2 epochs straight = 1 + save + load + 1, bit for bit),
 * versions (list, keep-last-N, rollback, delete), SHA-256 per tensor with a typed error naming the tensor
 * and fallback to the previous good version, atomic saves (an abort and a process killed mid-save leave the
 * previous version), and int8 / 8-bit-Adam storage.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  captureCheckpoint,
  copyWeights,
  createRule,
  dequantize,
  evaluate,
  fetchCheckpoint,
  LayerhiveError,
  quantize,
  restoreRule,
  Rng,
  tensor,
  tidy,
  train,
  type LearningRule,
  type RuleConfig,
} from '../../../src/index.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { expectClose, wasmRelaxed } from '../helpers.js';

const root = fileURLToPath(new URL('../../../.tmp/store-test/', import.meta.url));
const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 192),
  testSet = subset(mnist.test, 0, 200);

/** Every parameter, buffer and optimizer moment of a rule, flattened in a fixed order. */
async function fullState(rule: LearningRule): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const g of rule.groups()) {
    const s = await rule.saveGroup(g.name);
    for (const k of Object.keys(s.tensors).sort()) out.push(s.tensors[k].data);
    for (const k of Object.keys(s.optimizer.slots).sort()) out.push(s.optimizer.slots[k].data);
  }
  for (const [, t] of [...rule.buffers()].sort(([a], [b]) => (a < b ? -1 : 1)))
    out.push(Float32Array.from((await t.data()) as Float32Array));
  return out;
}

const configs: RuleConfig[] = [
  {
    rule: 'backprop',
    model: 'mlp',
    inputShape: [1, 28, 28],
    classes: 10,
    seed: 3,
    optimizer: { type: 'adam', lr: 2e-3 },
  },
  {
    rule: 'tpsgd',
    model: 'mlp',
    inputShape: [1, 28, 28],
    classes: 10,
    seed: 3,
    optimizer: { type: 'adamw', lr: 2e-3, weightDecay: 1e-3 },
  },
  {
    rule: 'noprop-dt',
    model: 'mlp',
    inputShape: [1, 28, 28],
    classes: 10,
    seed: 3,
    optimizer: { type: 'adamw', lr: 1e-3, weightDecay: 1e-3 },
    noprop: { T: 3 },
  },
];

describe('exact resume through the store', { tags: ['invariant'] }, () => {
  for (const config of configs) {
    const title = `${config.rule}: 2 epochs straight = 1 epoch, save, load into a new rule, 1 more epoch (bit for bit)`;
    it(title, async () => {
      const options = {
        epochs: 2,
        batchSize: 32,
        seed: 7,
        lr: 2e-3,
        schedule: { type: 'cosine' as const, totalSteps: 12 },
      };
      const straight = createRule(config, wasmRelaxed);
      await train(straight, trainSet, testSet, options);

      const store = new FsCheckpointStore(`${root}resume`);
      const first = createRule(config, wasmRelaxed);
      await train(first, trainSet, testSet, {
        ...options,
        epochs: 1,
        onEpoch: async (_e, cursor, rule) => {
          await store.save(config.rule, await captureCheckpoint(rule, config, { cursor }));
        },
      });
      first.dispose();
      const loaded = await store.load(config.rule);
      expect(loaded.cursor).toMatchObject({ epoch: 1, position: 0 });
      const resumed = restoreRule(loaded, wasmRelaxed);
      await train(resumed, trainSet, testSet, { ...options, cursor: loaded.cursor! });

      const [a, b] = [await fullState(straight), await fullState(resumed)];
      expect(b.length).toBe(a.length);
      a.forEach((t, i) => {
        expect(Buffer.from(b[i].buffer).equals(Buffer.from(t.buffer)), `tensor ${i}`).toBe(true);
      });
      straight.dispose();
      resumed.dispose();
    });
  }
});

describe('FsCheckpointStore', { tags: ['behaviour'] }, () => {
  const config = configs[0];
  const fresh = (name: string) => {
    rmSync(`${root}${name}`, { recursive: true, force: true });
    return new FsCheckpointStore(`${root}${name}`);
  };
  const checkpoint = async (seed: number) => {
    const rule = createRule({ ...config, seed }, wasmRelaxed);
    const ck = await captureCheckpoint(rule, config, { meta: { seed } });
    rule.dispose();
    return ck;
  };

  it('lists versions, keeps the newest N, rolls back by copying, deletes; names and errors', async () => {
    const store = fresh('versions');
    for (const seed of [1, 2, 3]) await store.save('m', await checkpoint(seed));
    expect((await store.list('m')).map((v) => [v.version, v.meta.seed])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const v4 = await store.save('m', await checkpoint(4), { keep: 2 });
    expect(v4.version).toBe(4);
    expect((await store.list('m')).map((v) => v.version)).toEqual([3, 4]);
    const back = await store.rollback('m', 3);
    expect(back).toMatchObject({ version: 5, rolledBackFrom: 3, meta: { seed: 3 } });
    expect((await store.load('m')).meta.seed).toBe(3);
    expect((await store.load('m', { version: 4 })).meta.seed).toBe(4);
    await store.delete('m', 4);
    expect(await store.prune('m', 1)).toEqual([3]);
    expect((await store.list('m')).map((v) => v.version)).toEqual([5]);
    await store.save('other', await checkpoint(9));
    expect(await store.names()).toEqual(['m', 'other']);
    await store.delete('other');
    expect(await store.names()).toEqual(['m']);
    await expect(store.load('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.load('m', { version: 2 })).rejects.toThrow(/has no version 2 .* versions: 5/);
    await expect(store.save('../escape', await checkpoint(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.save('m', await checkpoint(1), { keep: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a flipped byte is a CHECKSUM_MISMATCH naming the tensor; fallback loads the previous good version', async () => {
    const store = fresh('corrupt');
    await store.save('m', await checkpoint(1));
    await store.save('m', await checkpoint(2));
    const file = `${root}corrupt/m/v000002/records.bin`;
    const bytes = readFileSync(file);
    const manifest = JSON.parse(readFileSync(`${root}corrupt/m/v000002/manifest.json`, 'utf8'));
    const second = manifest.records[1];
    bytes[manifest.records[0].bytes + 5] ^= 0x40; // inside the second record
    writeFileSync(file, bytes);
    const err = await store.load('m').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerhiveError);
    expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((err as Error).message).toContain(`tensor '${second.key}' fails its SHA-256 check`);
    const ok = await store.load('m', { fallback: true });
    expect(ok.info.version).toBe(1);
    expect(ok.meta.seed).toBe(1);
    expect(ok.skipped).toEqual([{ version: 2, error: expect.stringContaining(second.key) }]);
    await expect(store.rollback('m', 2)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' }); // never copies damage
    // an unreadable manifest is a damaged version too
    writeFileSync(`${root}corrupt/m/v000001/manifest.json`, '{"format": ');
    await expect(store.load('m', { version: 1 })).rejects.toMatchObject({ code: 'DATA_INVALID' });
    await expect(store.load('m', { fallback: true })).rejects.toThrow(/no version of 'm' at or below 2 checks out/);
  });

  it('an aborted save and a process killed mid-save leave the previous version whole', async () => {
    const store = fresh('atomic');
    await store.save('m', await checkpoint(1));
    const ctl = new AbortController();
    await expect(
      store.save('m', await checkpoint(2), { signal: ctl.signal, beforeCommit: () => ctl.abort() }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await store.list('m')).map((v) => v.version)).toEqual([1]);
    expect(readdirSync(`${root}atomic/m`)).toEqual(['v000001']);

    // a child process saves version 2 and SIGKILLs itself after writing, before the rename
    const child = fileURLToPath(new URL('./kill-mid-save.mjs', import.meta.url)); // runs the built dist
    let status: number | null = 0,
      signal: string | null = null;
    try {
      execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', child, `${root}atomic`], { stdio: 'pipe' });
    } catch (e) {
      ({ status, signal } = e as { status: number | null; signal: string | null });
    }
    expect([status, signal]).toEqual([null, 'SIGKILL']);
    // its half-written version
    expect(readdirSync(`${root}atomic/m`).filter((f) => f.startsWith('.tmp-'))).toHaveLength(1);
    const loaded = await store.load('m');
    expect([loaded.info.version, loaded.meta.seed]).toEqual([1, 1]);
    await store.save('m', await checkpoint(3));
    expect(readdirSync(`${root}atomic/m`).sort()).toEqual(['v000001', 'v000002']); // the next save cleared the leftover
  });
});

describe('weights across rules, and a checkpoint over HTTP', () => {
  it('copyWeights hands a backprop network to tpSGD (same predictions); ' + 'fetchCheckpoint reads the file layout', {
    tags: ['invariant'],
  }, async () => {
    const store = fresh8();
    const bp = createRule(configs[0], wasmRelaxed);
    await train(bp, trainSet, testSet, { epochs: 1, batchSize: 32, seed: 1, lr: 2e-3 });
    await store.save('bp', await captureCheckpoint(bp, configs[0]));
    // served as files: a fetch over the version folder
    const fetcher = (async (url: string) => {
      try {
        const b = readFileSync(fileURLToPath(url));
        return new Response(b);
      } catch {
        return new Response(null, { status: 404 });
      }
    }) as typeof fetch;
    const ck = await fetchCheckpoint(new URL(`file://${root}q8/bp/v000001`).href, fetcher);
    await expect(fetchCheckpoint(new URL(`file://${root}q8/bp/v000009`).href, fetcher)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const tp = createRule({ ...configs[1], optimizer: configs[0].optimizer }, wasmRelaxed);
    copyWeights(ck, tp);
    const x = tensor(
      new Float32Array(784 * 4).map((_, i) => Math.sin(i)),
      [4, 1, 28, 28],
      'float32',
      wasmRelaxed,
    );
    expectClose(
      tidy(() => tp.predict(x).dataSync() as Float32Array),
      tidy(() => bp.predict(x).dataSync() as Float32Array),
      0,
      0,
      'predictions',
    );
    const other = createRule({ ...configs[0], model: 'cnn' }, wasmRelaxed);
    expect(() => copyWeights(ck, other)).toThrow(
      /the checkpoint has \d+ values for '0.weight', not \d+|has no parameter/,
    );
    for (const r of [bp, tp, other]) r.dispose();
    x.dispose();
  });
});

describe('8-bit storage', () => {
  it("q8 is within half a step of each block's scale; q8sqrt keeps small second moments", {
    tags: ['hand-computed'],
  }, () => {
    const v = new Rng(1).fillNormal(new Float32Array(5000), 0, 0.1);
    v[4999] = 3; // one large value only coarsens its own block
    const q = quantize(v, 'q8');
    expect(q.byteLength).toBe(4 * 3 + 5000);
    const back = dequantize(q, 5000, 'q8');
    for (let b = 0; b < 3; b++) {
      const from = b * 2048,
        to = Math.min(5000, from + 2048);
      let max = 0;
      for (let i = from; i < to; i++) max = Math.max(max, Math.abs(v[i]));
      for (let i = from; i < to; i++) expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(max / 127 / 2 + 1e-7);
    }
    const sq = Float32Array.from(v, (x) => x * x * 1e-4); // Adam's v: tiny and non-negative
    const sqBack = dequantize(quantize(sq, 'q8sqrt'), 5000, 'q8sqrt');
    let nonzeroKept = 0,
      nonzero = 0;
    for (let i = 0; i < 4096; i++)
      if (sq[i] > 1e-8) {
        nonzero++;
        if (sqBack[i] > 0) nonzeroKept++;
      }
    expect(nonzeroKept / nonzero).toBeGreaterThan(0.95);
    expect(sqBack.every((x) => x >= 0)).toBe(true);
  });

  it('an int8 checkpoint of a trained MLP is ~4× smaller and predicts within 1 point of the f32 one', {
    tags: ['invariant'],
  }, async () => {
    const store = fresh8();
    const rule = createRule(configs[0], wasmRelaxed);
    await train(rule, subset(mnist.train, 0, 1000), testSet, { epochs: 1, batchSize: 32, seed: 1, lr: 2e-3 });
    const ck = await captureCheckpoint(rule, configs[0]);
    const full = await store.save('f32', ck);
    const small = await store.save('q8', ck, { quantize: { weights: true, optimizer: true } });
    expect(small.quantized).toBe(true);
    expect(full.bytes / small.bytes).toBeGreaterThan(3.8);
    const test = subset(mnist.test, 0, 1000);
    const acc = async (name: string) => {
      const r = restoreRule(await store.load(name), wasmRelaxed);
      const a = await evaluate((x) => r.predict(x), wasmRelaxed, test);
      r.dispose();
      return a;
    };
    const [a32, a8] = [await acc('f32'), await acc('q8')];
    expect(a32).toBeGreaterThan(0.8);
    expect(Math.abs(a32 - a8)).toBeLessThan(0.01);
    rule.dispose();
  });
});

function fresh8() {
  rmSync(`${root}q8`, { recursive: true, force: true });
  return new FsCheckpointStore(`${root}q8`);
}
