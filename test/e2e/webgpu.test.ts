// @module-tag js-oracle
/**
 * The WebGPU backend in headless Chromium (--enable-unsafe-webgpu: SwiftShader without a GPU): every kernel against js.
 */
import { describe, expect, it } from 'vitest';
import { run, useBrowser } from './fixture.js';

describe('webgpu in Chromium', () => {
  const env = useBrowser({ args: ['--enable-unsafe-webgpu'] });
  it('every WGSL kernel agrees with the js reference', async () => {
    const { page, errors } = await env.open('/test/e2e/pages/webgpu.html');
    const r = await run<{
      error?: string;
      adapter: string;
      flavour: string;
      variant: string;
      results: { name: string; worst: number; shapes: boolean }[];
    }>(page);
    expect(r.error, r.error).toBeUndefined();
    expect(errors).toEqual([]);
    console.log(
      `Chromium WebGPU adapter: ${r.adapter} (${r.flavour}), matmul kernel: ${r.variant}, ${r.results.length} cases`,
    );
    expect(r.results.length).toBeGreaterThan(80);
    for (const c of r.results) {
      expect(c.shapes, `${c.name} shape`).toBe(true);
      expect(c.worst, `${c.name}: worst error ÷ tolerance`).toBeLessThanOrEqual(1);
    }
  });
});
