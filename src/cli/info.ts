import * as lh from '../index.js';
import { hardwareThreads, relaxedSimdSupported, simdSupported, threadsSupported } from '../backend/wasm/features.js';
import { useNodeWebGpu } from '../backend/webgpu/node-gpu.js';

export interface BackendReport {
  name: string;
  available: boolean;
  flavour?: string;
  reason?: string;
  capabilities?: Record<string, string | boolean | number>;
  /** Kernels with native code (SIMD or WGSL) and kernels running the js reference on the backend's memory. */
  kernels?: { simd: number; reference: number };
}

/**
 * What this engine offers: each backend as `createBackend(name)` makes it, whether it starts, and what it runs
 * natively; the wasm backend's capabilities say how many threads it uses (`threadsInUse`) and, when fewer than the
 * cores, why (`threadsNote`).
 */
export async function collectInfo() {
  const engine = {
    runtime: typeof process !== 'undefined' ? `node ${process.versions.node} (V8 ${process.versions.v8})` : 'browser',
    wasmSimd: simdSupported(),
    wasmRelaxedSimd: relaxedSimdSupported(),
    wasmThreads: threadsSupported(),
    cores: await hardwareThreads(),
    webgpu: (await useNodeWebGpu()) ? 'the webgpu package (Dawn)' : 'the webgpu package is not installed',
  };
  const backends: BackendReport[] = [];
  for (const name of lh.registeredBackends()) {
    try {
      const b = await lh.createBackend(name);
      const capabilities = b.capabilities(); // before destroy: the threads in use, not the threads left
      b.destroy?.();
      const ks = lh.listKernels(name);
      backends.push({
        name,
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
      backends.push({ name, available: false, reason });
    }
  }
  return { engine, backends };
}
