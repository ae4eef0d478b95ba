import * as lh from '../index.js';
import { simdSupported, relaxedSimdSupported, threadsSupported } from '../backend/wasm/features.js';

export interface BackendReport {
  name: string;
  available: boolean;
  flavour?: string;
  reason?: string;
  capabilities?: Record<string, string | boolean | number>;
  kernels?: { simd: number; reference: number };
}

/** What this engine offers: each backend, whether it starts, and what it runs natively. */
export async function collectInfo() {
  const engine = {
    runtime: typeof process !== 'undefined' ? `node ${process.versions.node} (V8 ${process.versions.v8})` : 'browser',
    wasmSimd: simdSupported(),
    wasmRelaxedSimd: relaxedSimdSupported(),
    wasmThreads: threadsSupported(),
    webgpu: typeof navigator !== 'undefined' && 'gpu' in navigator ? 'navigator.gpu present' : 'no WebGPU in this runtime (the webgpu backend comes with a later release)',
  };
  const backends: BackendReport[] = [];
  for (const name of lh.registeredBackends()) {
    try {
      const b = await lh.createBackend(name);
      const ks = lh.listKernels(name);
      backends.push({
        name, available: true, flavour: b.flavour, capabilities: b.capabilities(),
        kernels: { simd: ks.filter((k) => k.note === 'simd').length, reference: ks.filter((k) => k.note !== 'simd').length },
      });
    } catch (e) {
      backends.push({ name, available: false, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { engine, backends };
}
