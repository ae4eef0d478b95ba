// A page bundled by Vite that uses layerhive: the wasm kernels in this thread, and training on two stage workers
// whose script Vite emits as an asset (`?url`), as the README tells consumers to do.
import * as lh from 'layerhive';
import stageWorkerUrl from 'layerhive/stage.worker.js?url';

/** 10 classes of 28×28 images: class k is a bright 8×8 square at its own place, with some noise. */
function squares(count, seed) {
  const rng = new lh.Rng(seed);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const k = i % 10;
    labels[i] = k;
    const top = 2 + 9 * Math.floor(k / 4);
    const left = 2 + 6 * (k % 4);
    for (let p = 0; p < 784; p++) images[i * 784 + p] = Math.floor(rng.uniform() * 40);
    for (let r = top; r < top + 8; r++) for (let c = left; c < left + 8; c++) images[i * 784 + r * 28 + c] = 255;
  }
  return { images, labels, count, shape: [1, 28, 28], classes: 10 };
}

window.run = async () => {
  try {
    await lh.ready();
    const config = {
      rule: 'tpsgd',
      model: 'mlp',
      inputShape: [1, 28, 28],
      classes: 10,
      seed: 3,
      optimizer: { type: 'adam', lr: 2e-3 },
    };
    const { report } = await lh.trainParallel(config, squares(320, 1), squares(100, 2), {
      epochs: 2,
      batchSize: 32,
      seed: 1,
      lr: 2e-3,
      workers: 2,
      stageThreads: 1, // two Web Workers, one thread each (placement may otherwise take one worker of 2 threads)
      spawn: lh.webSpawner(stageWorkerUrl),
    });
    return {
      backend: lh.getBackend().flavour,
      workerUrl: stageWorkerUrl,
      workers: report.workers.map((w) => w.backend),
      accuracy: report.epochs.at(-1).testAccuracy,
    };
  } catch (e) {
    return { error: String(e?.stack ?? e) };
  }
};
window.ready = true;
