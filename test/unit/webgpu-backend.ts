/**
 * The WebGPU backend for tests, in Node through the `webgpu` package (Chromium's SwiftShader, see .ci/run).
 * Null where no adapter exists — tests then skip and say so — unless LAYERHIVE_REQUIRE_WEBGPU=1 (CI), where
 * a missing adapter is a failure, so the suite cannot pass there without running.
 */
import { createBackend } from '../../src/index.js';
import { useNodeWebGpu } from '../../src/backend/webgpu/node-gpu.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';

async function open(): Promise<{ backend: WebGpuBackend | null; why: string }> {
  if (!(await useNodeWebGpu())) return { backend: null, why: 'the webgpu package is not installed' };
  try {
    return { backend: (await createBackend('webgpu')) as WebGpuBackend, why: '' };
  } catch (e) {
    return { backend: null, why: (e as Error).message };
  }
}

const opened = await open();
if (!opened.backend) {
  if (process.env.LAYERHIVE_REQUIRE_WEBGPU === '1') throw new Error(`LAYERHIVE_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${opened.why}`);
  console.warn(`WebGPU tests SKIPPED: no adapter (${opened.why})`);
}
export const gpu = opened.backend;
