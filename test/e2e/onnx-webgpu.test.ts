// @module-tag outside
/**
 * The PyTorch exports of test/fixtures/onnx (all but the refused one) in headless Chromium: loadOnnx on WebGPU
 * (--enable-unsafe-webgpu: SwiftShader without a GPU) and on both wasm builds predicts what PyTorch computed, to
 * |Δ|/(1+|torch|) ≤ 1e-4.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run, useBrowser } from './fixture.js';

/** LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div: a typed refusal on purpose (test/unit/onnx). */
const refused = new Set(['mlp_ln.torchscript13.onnx']);
const files = readdirSync(new URL('../fixtures/onnx/', import.meta.url))
  .filter((f) => f.endsWith('.onnx') && !refused.has(f))
  .sort();
const backends = ['webgpu', 'wasm-simd', 'wasm-relaxed'] as const;

interface Case {
  file: string;
  backend: string;
  flavour: string;
  err?: number;
  ms?: number;
  error?: string;
}
interface Result {
  error?: string;
  adapter: string;
  flavour: string;
  results: Case[];
  errors: string[];
  ms: number;
}

describe('ONNX imports on WebGPU and wasm in Chromium vs PyTorch', { timeout: 300_000 }, () => {
  const env = useBrowser({ args: ['--enable-unsafe-webgpu'] });
  let result: Promise<Result> | undefined;
  // the page runs once, on the first test's clock; each case then reads its line
  const all = () =>
    (result ??= (async () => {
      const t0 = performance.now();
      const { page, errors } = await env.open('/test/e2e/pages/onnx-webgpu.html');
      const r = await run<Omit<Result, 'errors' | 'ms'>>(page, files);
      const ms = performance.now() - t0;
      console.log(
        `Chromium WebGPU adapter: ${r.adapter} (${r.flavour}), ${files.length} files, ${(ms / 1e3).toFixed(1)} s`,
      );
      for (const c of r.results ?? []) {
        const what = c.error ? `ERROR ${c.error.split('\n')[0]}` : `max err ${c.err?.toExponential(2)}`;
        console.log(`${c.file.padEnd(40)} ${c.backend.padEnd(13)} ${what}${c.ms ? ` (${Math.round(c.ms)} ms)` : ''}`);
      }
      return { ...r, errors, ms };
    })());

  it('the page runs with WebGPU and no page errors', async () => {
    const r = await all();
    expect(r.error, r.error).toBeUndefined();
    expect(r.errors).toEqual([]);
    expect(r.flavour).toMatch(/^webgpu/);
    // each wasm build is the one asked for (Chromium validates relaxed SIMD)
    for (const c of r.results) if (c.backend !== 'webgpu') expect(c.flavour, c.backend).toBe(c.backend);
    expect(r.results).toHaveLength(files.length * backends.length);
  });

  for (const file of files)
    for (const backend of backends) {
      it(`${file} on ${backend}: max |Δ|/(1+|torch|) ≤ 1e-4`, async () => {
        const c = (await all()).results?.find((x) => x.file === file && x.backend === backend);
        expect(c, 'no result').toBeDefined();
        expect(c!.error, c!.error).toBeUndefined();
        expect(c!.err).toBeLessThanOrEqual(1e-4);
      });
    }
});
