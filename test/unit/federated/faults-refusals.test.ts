// @module-tag behaviour
// The fault refusals that need no SuperLink: global arrays that do not fit the model ('shape', the model untouched)
// and a heartbeat interval Flower would refuse (a typed error before anything connects).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runFederate } from '../../../src/cli/federate.js';
import { createBackend } from '../../../src/index.js';
import { createRule } from '../../../src/learn/create.js';
import { FederatedError } from '../../../src/federated/errors.js';
import { decodeNpy, encodeNpy } from '../../../src/federated/npy.js';
import type { FlowerArray } from '../../../src/federated/records.js';
import { loadRuleArrays, ruleArrays } from '../../../src/federated/rule-client.js';
import { faultConfig } from './faults-common.js';

const digest = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const bytesOf = (m: Map<string, FlowerArray>) => [...m].map(([n, a]) => [n, digest(a.data)]);

describe('loadRuleArrays refuses what does not fit, before touching the rule', () => {
  it("a missing, an int32 and an extra array are each a 'shape' error; the weights stay as they were", async () => {
    const backend = await createBackend('js');
    const r = createRule(faultConfig(8), backend);
    const good = await ruleArrays(r);
    const [first] = good.keys();
    const t = good.get(first)!;
    const asI32 = new Int32Array(t.shape.reduce((a, b) => a * b, 1));
    const cases: Map<string, FlowerArray>[] = [
      new Map([...good].filter(([n]) => n !== first)),
      new Map([
        ...good,
        [first, { ...t, dtype: 'int32', data: encodeNpy({ dtype: 'int32', shape: t.shape, data: asI32 }) }],
      ]),
      new Map([...good, ['extra/w', t]]),
    ];
    // every array but the first one changed, so that a partial load would show
    const changed = (m: Map<string, FlowerArray>) =>
      new Map(
        [...m].map(([n, a]) =>
          n === first || a.dtype !== 'float32'
            ? [n, a]
            : [
                n,
                {
                  ...a,
                  data: encodeNpy({
                    dtype: 'float32',
                    shape: a.shape,
                    data: new Float32Array(a.shape.reduce((x, y) => x * y, 1)).fill(3),
                  }),
                },
              ],
        ),
      );
    for (const c of cases) {
      const err = await loadRuleArrays(r, changed(c)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FederatedError);
      expect((err as FederatedError).fault).toBe('shape');
      expect(bytesOf(await ruleArrays(r))).toEqual(bytesOf(good));
    }
    r.dispose();
  });
});

describe('loadRuleArrays takes float64 arrays of the right shapes', () => {
  it("rounds each value to float32 (Flower's FedAdam sends float64 under NumPy 2)", async () => {
    const backend = await createBackend('js');
    const r = createRule(faultConfig(8), backend);
    const wide = new Map<string, FlowerArray>();
    const expected: [string, Float32Array][] = [];
    for (const [n, a] of await ruleArrays(r)) {
      const size = a.shape.reduce((x, y) => x * y, 1);
      // values float32 cannot hold exactly: a load that kept the bits or misread the width would differ
      const data = Float64Array.from({ length: size }, (_, i) => Math.sin(i + 1) / 3 + 1e-9);
      wide.set(n, { ...a, dtype: 'float64', data: encodeNpy({ dtype: 'float64', shape: a.shape, data }) });
      expected.push([n, Float32Array.from(data, Math.fround)]);
    }
    await loadRuleArrays(r, wide);
    const loaded = await ruleArrays(r);
    for (const [n, want] of expected) expect(decodeNpy(loaded.get(n)!.data).data).toEqual(want);
    r.dispose();
  });
});

describe('layerhive federate --heartbeat', () => {
  it("refuses an interval outside Flower's 10 to 1800 s with a typed error, before connecting", async () => {
    for (const heartbeat of [5, 1801])
      await expect(
        runFederate({
          server: 'http://127.0.0.1:9',
          rule: 'backprop',
          model: 'mlp',
          data: 'mnist',
          shard: '0/1',
          seed: 7,
          testImages: 10,
          epochs: 1,
          lr: 0.05,
          batch: 32,
          optimizer: 'sgd',
          backend: 'js',
          workerUrl: new URL('file:///nowhere/stage.worker.js'),
          heartbeat,
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--heartbeat') });
  });
});
