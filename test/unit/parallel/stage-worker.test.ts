// @module-tag js-oracle
/** The built stage worker (dist/stage.worker.js) hosts a StageHost in a Node worker thread over comlink. */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import * as lh from '../../../src/index.js';
import { createRule, Rng, tidy, type RuleConfig } from '../../../src/index.js';
import type { StageHost } from '../../../src/parallel/stage-host.js';
import { expectClose, js } from '../helpers.js';

const workerUrl = new URL('../../../dist/stage.worker.js', import.meta.url);

describe('stage worker', () => {
  it(
    'builds a rule on its own wasm backend, takes weights, ' + 'and predicts like the in-process js reference',
    async () => {
      expect(existsSync(workerUrl), 'dist/stage.worker.js is built by `npm run build` (npm test runs it first)').toBe(
        true,
      );
      const worker = new Worker(workerUrl);
      try {
        const stage = Comlink.wrap<StageHost>(nodeEndpoint(worker));
        const config: RuleConfig = {
          rule: 'backprop',
          model: 'cnn',
          inputShape: [1, 28, 28],
          classes: 10,
          seed: 3,
          optimizer: { type: 'adam', lr: 1e-3 },
        };
        const local = createRule({ ...config, seed: 11 }, js); // other weights than the worker's seed gives
        const info = await stage.init({ rule: config, backend: 'wasm', label: 'stage 0' });
        expect(info.backend).toMatch(/^wasm-/);
        expect(info.groups).toEqual(['segment0', 'segment1', 'segment2', 'segment3']);
        await stage.loadGroups(
          Object.fromEntries(await Promise.all(info.groups.map(async (g) => [g, await local.saveGroup(g)] as const))),
        );
        const a = await stage.saveGroups(['segment1']);
        expect(a.segment1.tensors['3.weight'].data).toEqual(
          (await local.saveGroup('segment1')).tensors['3.weight'].data,
        );
        const x = lh.randomUniform([3, 1, 28, 28], new Rng(5), 0, 1, js);
        const mc = [new MessageChannel(), new MessageChannel()];
        await stage.connect(Comlink.transfer({ prev: mc[0].port2, next: mc[1].port1 }, [mc[0].port2, mc[1].port1]));
        const out = new Promise<{ kind: string; body: { data: Float32Array; shape: number[] } }>((r) => {
          mc[1].port2.onmessage = (e) => r(e.data);
        });
        const done = stage.predict(0, 4, 1); // all four segments
        mc[0].port1.postMessage({
          kind: 'act',
          body: { shape: [3, 1, 28, 28], dtype: 'float32', data: x.dataSync() },
          bytes: 0,
        });
        const msg = await out;
        await done;
        expect(msg.body.shape).toEqual([3, 10]);
        expectClose(
          msg.body.data,
          tidy(() => local.predict(x).dataSync()),
          1e-4,
          1e-4,
          'worker vs in-process',
        );
        mc[0].port1.close();
        mc[1].port2.close();
      } finally {
        await worker.terminate();
      }
    },
  );
});
