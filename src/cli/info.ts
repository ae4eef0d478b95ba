import * as lh from '../index.js';
import { simdSupported, relaxedSimdSupported, threadsSupported } from '../backend/wasm/features.js';
import { useNodeWebGpu } from '../backend/webgpu/node-gpu.js';

export interface BackendReport {
  name: string;
  /** Options it was created with, when not the defaults (the wasm backend with intra-op threads). */
  options?: lh.BackendOptions;
  available: boolean;
  flavour?: string;
  reason?: string;
  capabilities?: Record<string, string | boolean | number>;
  /** Kernels with native code (SIMD or WGSL) and kernels running the js reference on the backend's memory. */
  kernels?: { simd: number; reference: number };
}

/** Hardware threads: Node's available parallelism, a browser's hardwareConcurrency, else 1. */
async function cores(): Promise<number> {
  if (typeof process !== 'undefined' && process.versions?.node) {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
}

/**
 * What this engine offers: each backend, whether it starts, and what it runs natively. Where shared memory is
 * available, the wasm backend is also started with one thread per core, so the report shows whether its helper
 * threads really start (`threadsInUse`); the default backend uses one thread.
 */
export async function collectInfo() {
  const engine = {
    runtime: typeof process !== 'undefined' ? `node ${process.versions.node} (V8 ${process.versions.v8})` : 'browser',
    wasmSimd: simdSupported(),
    wasmRelaxedSimd: relaxedSimdSupported(),
    wasmThreads: threadsSupported(),
    cores: await cores(),
    webgpu: (await useNodeWebGpu()) ? 'the webgpu package (Dawn)' : 'the webgpu package is not installed',
  };
  const runs: { name: string; options?: lh.BackendOptions }[] = lh
    .registeredBackends()
    .flatMap((name) =>
      name === 'wasm' && engine.wasmThreads && engine.cores > 1
        ? [{ name }, { name, options: { threads: engine.cores } }]
        : [{ name }],
    );
  const backends: BackendReport[] = [];
  for (const { name, options } of runs) {
    try {
      const b = await lh.createBackend(name, options);
      const capabilities = b.capabilities(); // before destroy: the threads in use, not the threads left
      b.destroy?.();
      const ks = lh.listKernels(name);
      backends.push({
        name,
        ...(options ? { options } : {}),
        available: true,
        flavour: b.flavour,
        capabilities,
        kernels: {
          simd: ks.filter((k) => k.note === 'simd' || k.note === 'wgsl').length,
          reference: ks.filter((k) => k.note !== 'simd' && k.note !== 'wgsl').length,
        },
      });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      backends.push({ name, ...(options ? { options } : {}), available: false, reason });
    }
  }
  return { engine, backends };
}
