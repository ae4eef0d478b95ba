// @module-tag invariant
/** Explanations whose model calls are spread over 2 worker threads give the in-thread attributions. */
import { describe, expect, it } from 'vitest';
import { createRule, explain, parallelExplainable, type RuleConfig } from '../../../src/index.js';
import { nodeSpawner } from '../../../src/parallel/spawn-node.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { normalizePixels } from '../../../src/data/batches.js';
import { expectClose, wasmRelaxed } from '../helpers.js';

const spawn = nodeSpawner(new URL('../../../dist/stage.worker.js', import.meta.url));

describe('explanations over workers', () => {
  it('IG, SmoothGrad and occlusion over 2 workers equal the in-thread ones ' +
    'and count the same model calls', async () => {
    const mnist = await loadMnist();
    const config: RuleConfig = {
      rule: 'backprop',
      model: 'cnn',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 4,
      optimizer: { type: 'adam', lr: 1e-3 },
    };
    const rule = createRule(config, wasmRelaxed);
    const x = normalizePixels(mnist.test.images.subarray(784, 2 * 784));
    const par = await parallelExplainable(config, rule, { workers: 2, spawn });
    try {
      for (const o of [
        { method: 'integrated-gradients', samples: 16 },
        { method: 'smoothgrad', samples: 9 },
        { method: 'occlusion' },
      ] as const) {
        const [a, b] = [await explain(rule, x, { ...o, target: 3 }), await explain(par, x, { ...o, target: 3 })];
        expectClose(b.values, a.values, 1e-5, 1e-7, o.method);
        expect(b.modelCalls).toBe(a.modelCalls);
      }
    } finally {
      await par.close();
      rule.dispose();
    }
  }, 60_000);
});
