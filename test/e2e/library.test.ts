// @module-tag js-oracle
/**
 * The built library in real Chromium: wasm kernels (relaxed SIMD) agree with js, and the stage worker runs as a module
 * Web Worker.
 */
import { describe, expect, it } from 'vitest';
import { useBrowser } from './fixture.js';

describe('library in Chromium', () => {
  const env = useBrowser();
  it('runs the wasm backend with relaxed SIMD and matches js; the stage worker runs in a Web Worker', async () => {
    const { page, errors } = await env.open('/test/e2e/pages/library.html');
    const result = (await page.evaluate(() => (window as unknown as { result: Promise<unknown> }).result)) as {
      error?: string;
      flavour: string;
      workerBackend: string;
      crossOriginIsolated: boolean;
      diffs: Record<string, number>;
    };
    expect(result.error, result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.flavour).toBe('wasm-relaxed');
    expect(result.workerBackend).toBe('wasm-relaxed');
    for (const [name, d] of Object.entries(result.diffs)) expect(d, name).toBeLessThan(2e-4);
  });
});
