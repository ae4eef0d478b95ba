/**
 * The frozen stage in real Chromium: onnxruntime-web in a module Web Worker as the feature extractor, a tpSGD head
 * trained on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRepo } from './server.js';
import { launch } from './chromium.js';

let server: Awaited<ReturnType<typeof serveRepo>>;
let browser: Awaited<ReturnType<typeof launch>>;
beforeAll(async () => {
  server = await serveRepo();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('frozen stage in Chromium', () => {
  it('runs the shipped layers in onnxruntime-web in a Web Worker and trains a tpSGD head on them', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/test/e2e/pages/frozen.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const r = (await page.evaluate(() => (window as unknown as { run: () => Promise<unknown> }).run())) as {
      error?: string;
      featureShape: number[];
      worst: number;
      accuracy: number;
      shippedAccuracy: number;
    };
    expect(r.error, r.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(r.featureShape).toEqual([8, 512]);
    expect(r.worst).toBeLessThanOrEqual(1e-4);
    expect(r.accuracy).toBeGreaterThan(0.8);
    expect(r.accuracy).toBeGreaterThan(r.shippedAccuracy - 0.05);
    expect(server.requests.some((p) => p.endsWith('ort.wasm.min.mjs'))).toBe(true);
  }, 120_000);
});
