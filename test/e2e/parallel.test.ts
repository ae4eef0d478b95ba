/**
 * The worker pool in real Chromium: module Web Workers train NoProp-DT MLP blocks and reach Node's weights bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { serveRepo } from './server.js';
import { launch } from './chromium.js';
import { trainParallel, type RuleConfig } from '../../src/index.js';
import { nodeSpawner } from '../../src/parallel/spawn-node.js';
import { loadMnist } from '../../src/data/idx-file.js';
import { subset } from '../../src/data/dataset.js';

let server: Awaited<ReturnType<typeof serveRepo>>;
let browser: Awaited<ReturnType<typeof launch>>;
beforeAll(async () => {
  server = await serveRepo();
  browser = await launch(['--enable-unsafe-webgpu']);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const config: RuleConfig = {
  rule: 'noprop-dt',
  model: 'mlp',
  inputShape: [1, 28, 28],
  classes: 10,
  seed: 4,
  optimizer: { type: 'adamw', lr: 2e-3, weightDecay: 1e-3 },
  noprop: { T: 3 },
};
/**
 * The backend flavour this browser's own WebGPU adapter gives, derived as WebGpuBackend.create derives it ('webgpu',
 * or 'webgpu-fallback' for a software adapter such as SwiftShader); 'no adapter' when there is none.
 */
const adapterFlavour = (page: Page) =>
  page.evaluate(async () => {
    const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
    if (!adapter) return 'no adapter';
    return (adapter.info.isFallbackAdapter ?? false) ? 'webgpu-fallback' : 'webgpu';
  });
const options = { epochs: 1, batchSize: 32, seed: 9, lr: 2e-3, syncEvery: 4 };
const trainCount = 256,
  testCount = 200;

describe('worker pool in Chromium', () => {
  it('trains NoProp-DT blocks on 2 Web Workers to the same weights as Node worker_threads', async () => {
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

    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/test/e2e/pages/parallel.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const result = (await page.evaluate(
      (arg) => (window as unknown as { run: (a: unknown) => Promise<unknown> }).run(arg),
      { config, options, workers: 2, trainCount, testCount },
    )) as { error?: string; hash: string; accuracy: number; stages: number; backends: string[] };
    expect(result.error, result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.stages).toBe(2);
    expect(result.backends).toEqual(['wasm-relaxed', 'wasm-relaxed']);
    expect(result.hash).toBe(nodeHash);
    expect(result.accuracy).toBe(report.epochs[0].testAccuracy);
    rule.dispose();
  }, 120_000);

  it('each Web Worker can own a WebGPU device: NoProp blocks train on WebGPU in 2 workers', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/test/e2e/pages/parallel.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const result = (await page.evaluate(
      (arg) => (window as unknown as { run: (a: unknown) => Promise<unknown> }).run(arg),
      {
        config: { ...config, noprop: { T: 2 } },
        options: { ...options, backend: 'webgpu' },
        workers: 2,
        trainCount: 128,
        testCount: 100,
      },
    )) as { error?: string; accuracy: number; backends: string[] };
    expect(result.error, result.error).toBeUndefined();
    // each worker runs on WebGPU, of the same flavour as this page's adapter (SwiftShader: 'webgpu-fallback')
    const flavour = await adapterFlavour(page);
    expect(flavour).toMatch(/^webgpu/);
    expect(result.backends).toEqual([flavour, flavour]);
    expect(result.accuracy).toBeGreaterThan(0.15);
  }, 120_000);
});
