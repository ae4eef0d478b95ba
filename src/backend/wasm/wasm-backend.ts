import type { CpuBackend, Storage } from '../backend.js';
import { bytesPerElement, type DType, type TypedArray } from '../../core/dtype.js';
import { fail } from '../../core/errors.js';
import { kernelExportNames, type KernelExports } from './exports.js';
import { Heap } from './heap.js';
import { relaxedSimdSupported, simdSupported, threadsSupported } from './features.js';
import { relaxedWasmBase64, simdWasmBase64 } from './binaries.generated.js';
import type { BackendOptions } from '../select.js';

export interface WasmStorage extends Storage {
  ptr: number;
  bytes: number;
}

const ctors = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array } as const;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Tensors live in one WebAssembly memory; the SIMD kernels work on them in place. */
export class WasmBackend implements CpuBackend {
  readonly name = 'wasm';
  readonly flavour: 'wasm-simd' | 'wasm-relaxed';
  readonly k: KernelExports;
  private heap: Heap;
  private scratch: ({ ptr: number; bytes: number } | null)[] = [null, null, null, null, null];

  private constructor(flavour: 'wasm-simd' | 'wasm-relaxed', exports: KernelExports, memory: WebAssembly.Memory) {
    this.flavour = flavour;
    this.k = exports;
    this.heap = new Heap(memory, exports.heapBase());
  }

  static async create(options: BackendOptions = {}): Promise<WasmBackend> {
    if (!simdSupported()) {
      fail(
        'BACKEND_UNAVAILABLE',
        'this engine has no WebAssembly SIMD',
        'use a current browser or Node ≥ 16, or the js backend',
      );
    }
    const want = options.simd ?? 'auto';
    const relaxedOk = relaxedSimdSupported();
    if (want === 'relaxed' && !relaxedOk) {
      fail(
        'BACKEND_UNAVAILABLE',
        'relaxed SIMD was asked for but this engine does not validate it',
        "in Node 20 run with --experimental-wasm-relaxed-simd, or pass simd: 'auto'",
      );
    }
    const relaxed = want === 'relaxed' || (want === 'auto' && relaxedOk);
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536 });
    const module = await WebAssembly.compile(decode(relaxed ? relaxedWasmBase64 : simdWasmBase64));
    const instance = await WebAssembly.instantiate(module, {
      env: {
        memory,
        abort: () => {
          throw new Error('wasm kernel abort');
        },
      },
    });
    // the generated ABI lists every export; a binary without one of them is not the one it was generated with
    const missing = kernelExportNames.filter((name) => typeof instance.exports[name] !== 'function');
    if (missing.length) {
      fail(
        'BACKEND_UNAVAILABLE',
        `the wasm kernels lack the exports ${missing.join(', ')}`,
        'rebuild them with `node wasm/build.mjs` (it regenerates the binaries and their ABI together)',
      );
    }
    return new WasmBackend(
      relaxed ? 'wasm-relaxed' : 'wasm-simd',
      instance.exports as unknown as KernelExports,
      memory,
    );
  }

  alloc(size: number, dtype: DType): Storage {
    const { ptr, bytes } = this.heap.alloc(size * bytesPerElement[dtype]);
    const s: WasmStorage = { size, dtype, refs: 1, ptr, bytes };
    return s;
  }

  free(storage: Storage): void {
    const s = storage as WasmStorage;
    this.heap.release(s.ptr, s.bytes);
  }

  view(storage: Storage): TypedArray {
    const s = storage as WasmStorage;
    return new ctors[s.dtype](this.heap.memory.buffer, s.ptr, s.size);
  }

  write(storage: Storage, values: TypedArray): void {
    this.view(storage).set(values);
  }

  read(storage: Storage): TypedArray {
    return this.view(storage).slice();
  }

  /**
   * A scratch block of at least `bytes`, kept and reused across kernel calls. Slot 0 holds the GEMM packing
   * buffers, slot 1 the im2col matrix, slot 2 a GEMM operand or result in another layout, slots 3 and 4 more
   * (Winograd: filters, patches, products and a padded plane), so one kernel can use them all at once.
   */
  scratchPtr(bytes: number, slot: 0 | 1 | 2 | 3 | 4 = 0): number {
    const cur = this.scratch[slot];
    if (cur && cur.bytes >= bytes) return cur.ptr;
    if (cur) this.heap.release(cur.ptr, cur.bytes);
    const next = this.heap.alloc(bytes);
    this.scratch[slot] = next;
    return next.ptr;
  }

  /** All of linear memory as floats (index = byte offset / 4); valid until the next allocation. */
  heapF32(): Float32Array {
    return new Float32Array(this.heap.memory.buffer);
  }

  ptr(storage: Storage): number {
    return (storage as WasmStorage).ptr;
  }

  capabilities() {
    return {
      simd: true,
      relaxedSimd: this.flavour === 'wasm-relaxed',
      relaxedSimdAvailable: relaxedSimdSupported(),
      threads: threadsSupported(),
    };
  }

  memory() {
    return this.heap.stats();
  }

  resetPeak(): void {
    this.heap.resetPeak();
  }
}
