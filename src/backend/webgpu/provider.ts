import { fail } from '../../core/errors.js';

/**
 * Where WebGPU comes from: `navigator.gpu` in browsers and workers, or a GPU object handed in (Node: the
 * `webgpu` npm package, see `useNodeWebGpu` in layerhive/node). One function, no runtime branches elsewhere.
 */
let provided: GPU | null = null;

export function setGpuProvider(gpu: GPU | null): void {
  provided = gpu;
}

export function gpuProvider(): GPU {
  const gpu = provided ?? (typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined);
  if (!gpu) {
    fail(
      'BACKEND_UNAVAILABLE',
      'WebGPU is not available here (no navigator.gpu)',
      'use a browser with WebGPU (Chromium: --enable-unsafe-webgpu without a GPU), ' +
        'or in Node call useNodeWebGpu() from layerhive/node',
    );
  }
  return gpu;
}
