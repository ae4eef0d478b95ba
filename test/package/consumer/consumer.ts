// A Node project that installed the layerhive tarball: trains a small model, saves and reloads a checkpoint, and
// trains on two stage workers found through the package's exports. Type-checked strictly against the shipped .d.ts,
// then run; prints one line of JSON for the test.
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lh from 'layerhive';
import {
  captureCheckpoint,
  createRule,
  restoreRule,
  subset,
  tidy,
  train,
  trainParallel,
  type RuleConfig,
} from 'layerhive';
import { FsCheckpointStore, loadMnist, nodeSpawner, stageWorkerUrl } from 'layerhive/node';

await lh.ready();
const backend = lh.getBackend();
const mnist = await loadMnist();
const trainSet = subset(mnist.train, 0, 1024);
const testSet = subset(mnist.test, 0, 200);
const config: RuleConfig = {
  rule: 'tpsgd',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 1,
  optimizer: { type: 'adam', lr: 5e-3 },
};
const rule = createRule(config, backend);
const { epochs } = await train(rule, trainSet, testSet, { epochs: 1, batchSize: 32, seed: 1, lr: 5e-3 });
const accuracy = epochs.at(-1)?.testAccuracy ?? Number.NaN;

const dir = mkdtempSync(join(tmpdir(), 'layerhive-consumer-'));
const store = new FsCheckpointStore(dir);
const saved = await store.save('tiny', await captureCheckpoint(rule, config, { meta: { accuracy } }));
const restored = restoreRule(await store.load('tiny'), backend);
const x = lh.randomUniform([4, 1, 28, 28], new lh.Rng(7));
const [a, b] = tidy(() => [rule.predict(x).dataSync(), restored.predict(x).dataSync()]);
rmSync(dir, { recursive: true, force: true });

const resolved = import.meta.resolve('layerhive/stage.worker.js');
const parallel = await trainParallel(config, subset(trainSet, 0, 128), subset(testSet, 0, 64), {
  epochs: 1,
  batchSize: 32,
  seed: 1,
  lr: 2e-3,
  workers: 2,
  stageThreads: 1, // two workers, one thread each (placement may otherwise take one worker of 2 threads)
  spawn: nodeSpawner(stageWorkerUrl),
});
console.log(
  JSON.stringify({
    backend: backend.flavour,
    accuracy,
    version: saved.version,
    samePredictions: a.length === 40 && a.every((v, i) => v === b[i]),
    workerResolved: fileURLToPath(resolved) === fileURLToPath(stageWorkerUrl),
    workers: parallel.report.workers.map((w) => w.backend),
  }),
);
