// A module Web Worker that saves a checkpoint and, once its transaction is written but not committed, tells
// the page ('mid') and blocks, so that the page can terminate it mid-save.
import * as lh from '/dist/index.js';

self.onmessage = async ({ data: { name, seed } }) => {
  const backend = await lh.createBackend('wasm');
  const config = {
    rule: 'backprop',
    model: 'mlp',
    inputShape: [1, 28, 28],
    classes: 10,
    seed,
    optimizer: { type: 'adam', lr: 2e-3 },
  };
  const rule = lh.createRule(config, backend);
  const ck = await lh.captureCheckpoint(rule, config, { meta: { seed } });
  await new lh.IdbCheckpointStore('layerhive-e2e').save(name, ck, {
    beforeCommit: () => {
      self.postMessage('mid');
      const end = performance.now() + 30_000;
      while (performance.now() < end) {
        /* until terminated */
      }
    },
  });
  self.postMessage('committed');
};
