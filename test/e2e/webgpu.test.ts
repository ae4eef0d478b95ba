/**
 * The WebGPU backend in headless Chromium (--enable-unsafe-webgpu: SwiftShader without a GPU): every kernel against js.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRepo } from './server.js';
import { launch } from './chromium.js';

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

describe('webgpu in Chromium', () => {
  it('every WGSL kernel agrees with the js reference', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}/test/e2e/pages/webgpu.html`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const r = (await page.evaluate(() => (window as unknown as { run: () => Promise<unknown> }).run())) as {
      error?: string;
      adapter: string;
      flavour: string;
      variant: string;
      results: { name: string; worst: number; shapes: boolean }[];
    };
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
