import type { DType, TypedArray } from '../core/dtype.js';

/** Where a tensor's elements live on its backend. Shared by reshaped tensors; freed when the last one goes. */
export interface Storage {
  readonly size: number;
  readonly dtype: DType;
  refs: number;
}

/**
 * One engine that owns tensor memory and runs kernels. Kernels are registered separately, keyed by
 * (kernel name, backend name), so a backend here only manages memory and reports what it can do.
 */
export interface Backend {
  /** The registry key: 'js', 'wasm', 'webgpu'. */
  readonly name: string;
  /** What exactly runs: 'js', 'wasm-simd', 'wasm-relaxed', … */
  readonly flavour: string;
  alloc(size: number, dtype: DType): Storage;
  free(storage: Storage): void;
  write(storage: Storage, values: TypedArray): void;
  /** A copy of the elements. Backends with `asyncOnly` (WebGPU) throw here: use `readAsync`. */
  read(storage: Storage): TypedArray;
  /** A copy of the elements once the device has produced them (every backend has it; CPU ones answer at once). */
  readAsync?(storage: Storage): Promise<TypedArray>;
  /** True when elements can only be read asynchronously: checks that scan values on the CPU skip such tensors. */
  readonly asyncOnly?: boolean;
  capabilities(): Record<string, string | boolean | number>;
  /** Tensor memory: in use now, the most in use since the last `resetPeak`, reserved from the system. */
  memory(): { bytesInUse: number; peakBytesInUse: number; bytesReserved: number; allocations: number };
  resetPeak(): void;
  /**
   * Gives back what lives outside the JS heap (WebGPU: its buffers and device); the backend is unusable after.
   * CPU backends have nothing to give back and leave it out.
   */
  destroy?(): void;
}

/** Backends whose memory the CPU can address directly; the reference kernels run on any of them. */
export interface CpuBackend extends Backend {
  /** A view on the elements (no copy), valid until the next allocation on this backend. */
  view(storage: Storage): TypedArray;
}
