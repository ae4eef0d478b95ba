/** The built stage worker (dist/stage.worker.js) hosts a Stage in a Node worker thread over comlink. */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import * as lh from '../../../src/index.js';
import { nn, Rng, tidy } from '../../../src/index.js';
import type { Stage } from '../../../src/parallel/stage.js';
import { demoSpec } from '../../../src/cli/demo.js';
import { expectClose, js } from '../helpers.js';

const workerUrl = new URL('../../../dist/stage.worker.js', import.meta.url);

describe('stage worker', () => {
  it('runs a CNN stage on its own wasm backend and matches the in-process js reference', async () => {
    expect(existsSync(workerUrl), 'dist/stage.worker.js is built by `npm run build` (npm test runs it first)').toBe(true);
    const worker = new Worker(workerUrl);
    try {
      const stage = Comlink.wrap<Stage>(nodeEndpoint(worker));
      const model = new nn.Sequential(demoSpec, { backend: js, rng: new Rng(11) });
      const params = Object.fromEntries([...model.namedParams()].map(([k, t]) => [k, t.dataSync() as Float32Array]));
      const info = await stage.init({ spec: demoSpec, params, backend: 'wasm', seed: 999 });
      expect(info.backend).toMatch(/^wasm-/);
      expect(info.outputShape).toEqual([10]);
      const x = lh.randomUniform([3, 1, 28, 28], new Rng(5), 0, 1, js);
      const remote = await stage.forward({ shape: [...x.shape], dtype: 'float32', data: x.dataSync() });
      const local = tidy(() => model.predict(x).dataSync());
      expect(remote.shape).toEqual([3, 10]);
      expectClose(remote.data, local, 1e-4, 1e-4, 'worker vs in-process');
    } finally {
      await worker.terminate();
    }
  });
});
