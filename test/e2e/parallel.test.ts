/**
 * The worker pool in real Chromium: module Web Workers train NoProp-DT MLP blocks and reach Node's weights bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { adapterFlavour, run, useBrowser } from './fixture.js';
import { trainParallel, type RuleConfig } from '../../src/index.js';
import { nodeSpawner } from '../../src/parallel/spawn-node.js';
import { loadMnist } from '../../src/data/idx-file.js';
import { subset } from '../../src/data/dataset.js';

const config: RuleConfig = {
  rule: 'noprop-dt',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 4,
  optimizer: { type: 'adamw', lr: 2e-3, weightDecay: 1e-3 },
  noprop: { T: 3 },
};
// one-thread stages: the test is about two workers, and on a loaded machine placement may prefer one worker of two
// threads (ParallelOptions.stageThreads 'auto')
const options = { epochs: 1, batchSize: 32, seed: 9, lr: 2e-3, syncEvery: 4, stageThreads: 1 as const };
const trainCount = 256,
  testCount = 200;

describe('worker pool in Chromium', () => {
  const env = useBrowser({ args: ['--enable-unsafe-webgpu'] });
  it('trains NoProp-DT blocks on 2 Web Workers to the same weights as Node worker_threads', {
    tags: ['invariant'],
    timeout: 120_000,
  }, async () => {
    const mnist = await loadMnist();
    const { rule, report } = await trainParallel(
      config,
      subset(mnist.train, 0, trainCount),
      subset(mnist.test, 0, testCount),
      { ...options, workers: 2, spawn: nodeSpawner(new URL('../../dist/stage.worker.js', import.meta.url)) },
    );
    const h = createHash('sha256');
    for (const [, t] of [...rule.params(), ...rule.buffers()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      h.update(Float32Array.from(t.dataSync() as Float32Array));
    const nodeHash = h.digest('hex');
    expect(report.workers.map((w) => w.backend)).toEqual(['wasm-relaxed', 'wasm-relaxed']);

    const { page, errors } = await env.open('/test/e2e/pages/parallel.html');
    const result = await run<{ error?: string; hash: string; accuracy: number; stages: number; backends: string[] }>(
      page,
      { config, options, workers: 2, trainCount, testCount },
    );
    expect(result.error, result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.stages).toBe(2);
    expect(result.backends).toEqual(['wasm-relaxed', 'wasm-relaxed']);
    expect(result.hash).toBe(nodeHash);
    expect(result.accuracy).toBe(report.epochs[0].testAccuracy);
    rule.dispose();
  });

  it('each Web Worker can own a WebGPU device: NoProp blocks train on WebGPU in 2 workers', {
    tags: ['behaviour'],
    timeout: 120_000,
  }, async () => {
    const { page } = await env.open('/test/e2e/pages/parallel.html');
    const result = await run<{ error?: string; accuracy: number; backends: string[] }>(page, {
      config: { ...config, noprop: { T: 2 } },
      options: { ...options, backend: 'webgpu' },
      workers: 2,
      trainCount: 128,
      testCount: 100,
    });
    expect(result.error, result.error).toBeUndefined();
    // each worker runs on WebGPU, of the same flavour as this page's adapter (SwiftShader: 'webgpu-fallback')
    const flavour = await adapterFlavour(page);
    expect(flavour).toMatch(/^webgpu/);
    expect(result.backends).toEqual([flavour, flavour]);
    expect(result.accuracy).toBeGreaterThan(0.15);
  });
});
