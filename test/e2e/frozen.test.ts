// @module-tag outside
/**
 * The frozen stage in real Chromium: onnxruntime-web in a module Web Worker as the feature extractor, a tpSGD head
 * trained on it.
 */
import { describe, expect, it } from 'vitest';
import { run, useBrowser } from './fixture.js';

describe('frozen stage in Chromium', () => {
  const env = useBrowser();
  it('runs the shipped layers in onnxruntime-web in a Web Worker and trains a tpSGD head on them', async () => {
    const { page, errors } = await env.open('/test/e2e/pages/frozen.html');
    const r = await run<{
      error?: string;
      featureShape: number[];
      worst: number;
      accuracy: number;
      shippedAccuracy: number;
    }>(page);
    expect(r.error, r.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(r.featureShape).toEqual([8, 512]);
    expect(r.worst).toBeLessThanOrEqual(1e-4);
    expect(r.accuracy).toBeGreaterThan(0.8);
    expect(r.accuracy).toBeGreaterThan(r.shippedAccuracy - 0.05);
    expect(env.server.requests.some((p) => p.endsWith('ort.wasm.min.mjs'))).toBe(true);
  }, 120_000);
});
