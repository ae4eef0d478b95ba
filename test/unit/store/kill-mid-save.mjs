// Child process for store.test.ts: saves version 2 of 'm' and SIGKILLs itself once the version is written
// but before it is committed (renamed into place), as a crash or `kill -9` would.
import * as lh from '../../../dist/index.js';
import { FsCheckpointStore } from '../../../dist/node.js';

const backend = await lh.createBackend('wasm');
const config = {
  rule: 'backprop',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 2,
  optimizer: { type: 'adam', lr: 2e-3 },
};
const rule = lh.createRule(config, backend);
const store = new FsCheckpointStore(process.argv[2]);
await store.save('m', await lh.captureCheckpoint(rule, config, { meta: { seed: 2 } }), {
  beforeCommit: () => process.kill(process.pid, 'SIGKILL'),
});
console.log('not killed');
