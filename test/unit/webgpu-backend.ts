/**
 * The WebGPU backend for tests, in Node through the `webgpu` package (Chromium's SwiftShader where no GPU driver is
 * named; `npm test`'s pretest installs Chromium and the Vulkan loader). A missing adapter fails the files that use
 * it: the WebGPU tests never skip, so a green run always ran them.
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
  throw new Error(
    `WebGPU is unavailable (${opened.why}): install Debian's chromium and libvulkan1, or a Vulkan driver`,
  );
}
export const gpu: WebGpuBackend = opened.backend;
