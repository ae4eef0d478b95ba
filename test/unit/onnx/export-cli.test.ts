/**
 * `layerhive export`'s contract options, run in-process (`runExport`, the command's action): pixels in by default,
 * `--input normalized` for the previous form, the training normalisation from `--normalization`, else the
 * checkpoint's, else MNIST's; `--class-names`. The built bin's own run is in test/unit/cli/cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRule, readContract, UNIT_SCALE, type RuleConfig } from '../../../src/index.js';
import { captureCheckpoint } from '../../../src/store/checkpoint.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { runExport } from '../../../src/cli/train.js';
import { wasmRelaxed } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'layerhive-export-'));
const config: RuleConfig = {
  rule: 'tpsgd',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 1,
  streams: 'named',
  optimizer: { type: 'adam', lr: 1e-3 },
};

/** Saves the untrained rule as checkpoint `name` with `meta`. */
async function checkpoint(name: string, meta: Record<string, unknown> = {}): Promise<string> {
  const rule = createRule(config, wasmRelaxed);
  const { store, name: n } = FsCheckpointStore.at(join(dir, name));
  await store.save(n, await captureCheckpoint(rule, config, { meta }));
  rule.dispose();
  return join(dir, name);
}

/** `layerhive export --model ck --out file ...` and what it printed and wrote. */
async function exported(model: string, o: Partial<Parameters<typeof runExport>[0]> = {}) {
  const out = join(dir, `${Math.random().toString(36).slice(2)}.onnx`);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await runExport({ model, out, ...o });
    return {
      said: log.mock.calls.map((c) => String(c[0])).join('\n'),
      contract: await readContract(readFileSync(out)),
    };
  } finally {
    log.mockRestore();
  }
}

let ck: string;
beforeAll(async () => {
  ck = await checkpoint('ck');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('layerhive export: the contract options', { tags: ['behaviour'] }, () => {
  it('by default the file takes pixels in [0, 1] normalised with MNIST’s mean and std, and says so', async () => {
    const { said, contract } = await exported(ck);
    expect(said).toMatch(/input \[N, 1, 28, 28\] → logits \[N, 10\]\)/);
    expect(said).toMatch(/input: float pixels v\/255 in \[0, 1\], NCHW; the graph normalises them \(mean 0.1307/);
    expect(contract).toMatchObject({
      rule: 'tpsgd',
      input: { kind: 'pixels', range: [0, 1], normalization: { mean: 0.1307, std: 0.3081, appliedBy: 'graph' } },
      output: { classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
    });
  });

  it('--input normalized, --normalization (name or MEAN,STD), --class-names; a checkpoint’s own is used', async () => {
    const norm = await exported(ck, { input: 'normalized' });
    expect(norm.said).toMatch(/input: normalised pixels \(v\/255 − 0.1307\)\/0.3081/);
    expect(norm.contract?.input).toMatchObject({ kind: 'normalized', normalization: { appliedBy: 'caller' } });
    expect((await exported(ck, { normalization: 'unit' })).contract?.input.normalization).toEqual({
      ...UNIT_SCALE,
      appliedBy: 'graph',
    });
    expect((await exported(ck, { normalization: '0.5,0.25' })).contract?.input.normalization).toMatchObject({
      mean: 0.5,
      std: 0.25,
    });
    const names = 'zero,one,two,three,four,five,six,seven,eight,nine';
    expect((await exported(ck, { classNames: names })).contract?.output.classNames).toEqual(names.split(','));
    // a trainer that records its normalisation in the checkpoint's meta is followed without an option
    const recorded = await checkpoint('unit', { normalization: UNIT_SCALE });
    expect((await exported(recorded)).contract?.input.normalization).toMatchObject(UNIT_SCALE);
    expect((await exported(recorded, { normalization: 'mnist' })).contract?.input.normalization?.mean).toBe(0.1307);
  });

  it('a bad --normalization or a wrong count of class names is a typed error', async () => {
    await expect(exported(ck, { normalization: '0.5' })).rejects.toThrow(/--normalization 0.5 is not mnist, unit/);
    await expect(exported(ck, { normalization: '0,-1' })).rejects.toThrow(/is not mnist, unit or MEAN,STD/);
    await expect(exported(ck, { classNames: 'a,b' })).rejects.toThrow(/2 class names for 10 classes/);
  });
});
