import * as lh from '../index.js';
import { simdSupported, relaxedSimdSupported, threadsSupported } from '../backend/wasm/features.js';
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

/** What this engine offers: each backend, whether it starts, and what it runs natively. */
export async function collectInfo() {
  const engine = {
    runtime: typeof process !== 'undefined' ? `node ${process.versions.node} (V8 ${process.versions.v8})` : 'browser',
    wasmSimd: simdSupported(),
    wasmRelaxedSimd: relaxedSimdSupported(),
    wasmThreads: threadsSupported(),
    webgpu: (await useNodeWebGpu()) ? 'the webgpu package (Dawn)' : 'the webgpu package is not installed',
  };
  const backends: BackendReport[] = [];
  for (const name of lh.registeredBackends()) {
    try {
      const b = await lh.createBackend(name);
      b.destroy?.();
      const ks = lh.listKernels(name);
      backends.push({
        name,
        available: true,
        flavour: b.flavour,
        capabilities: b.capabilities(),
        kernels: {
          simd: ks.filter((k) => k.note === 'simd' || k.note === 'wgsl').length,
          reference: ks.filter((k) => k.note !== 'simd' && k.note !== 'wgsl').length,
        },
      });
    } catch (e) {
      backends.push({ name, available: false, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { engine, backends };
}
