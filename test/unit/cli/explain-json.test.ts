// @module-tag behaviour
/**
 * `layerhive explain` writes attributions.json with every per-element field as a JSON array: occlusion's
 * `coverage` and sampled KernelSHAP's `standardError` are typed arrays, which JSON.stringify writes as
 * {"0": …, "1": …} objects. Runs the command's code from source on a checkpoint written here.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createRule, type RuleConfig } from '../../../src/index.js';
import { captureCheckpoint } from '../../../src/store/checkpoint.js';
import { FsCheckpointStore } from '../../../src/store/fs-store.js';
import { runExplain } from '../../../src/cli/explain.js';
import { js } from '../helpers.js';

const dir = fileURLToPath(new URL('../../../.tmp/cli-explain-json/', import.meta.url));

describe('explain writes attributions.json', () => {
  it('values, coverage and standardError as arrays of numbers, one per pixel', async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'mlp',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 3,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const rule = createRule(config, js);
    const { store, name } = FsCheckpointStore.at(`${dir}ck`);
    await store.save(name, await captureCheckpoint(rule, config));
    rule.dispose();
    const log = console.log;
    console.log = () => {};
    try {
      await runExplain({
        model: `${dir}ck`,
        data: 'mnist',
        index: 0,
        method: 'occlusion,kernel-shap',
        out: `${dir}out`,
        backend: 'js',
        samples: 64,
      });
    } finally {
      console.log = log;
    }
    const json = JSON.parse(readFileSync(`${dir}out/attributions.json`, 'utf8'));
    const occ = json.methods.occlusion,
      shap = json.methods['kernel-shap'];
    for (const [what, v] of [
      ['occlusion values', occ.values],
      ['occlusion coverage', occ.coverage],
      ['kernel-shap values', shap.values],
      ['kernel-shap standardError', shap.standardError],
    ])
      expect(Array.isArray(v) && v.length === 784 && v.every((e: unknown) => typeof e === 'number'), what).toBe(true);
    expect(occ.coverage.every((c: number) => c >= 1)).toBe(true);
    expect(shap.exact).toBe(false);
  });
});
