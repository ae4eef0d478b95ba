import type { CpuBackend, Storage } from '../backend.js';
import { bytesPerElement, type DType, type TypedArray } from '../../core/dtype.js';
import { fail } from '../../core/errors.js';
import { kernelExportNames, type KernelExports } from './exports.js';
import { Heap } from './heap.js';
import { hardwareThreads, relaxedSimdSupported, simdSupported, threadsSupported } from './features.js';
import {
  relaxedSharedWasmBase64,
  relaxedWasmBase64,
  sharedMaxPages,
  simdSharedWasmBase64,
  simdWasmBase64,
} from './binaries.generated.js';
import type { BackendOptions } from '../select.js';
import { invoke, Team, type TeamCall } from './team.js';

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

/** The most threads `createBackend('wasm', { threads })` accepts. */
const MAX_THREADS = 64;

/** Instantiates the kernels over `memory` and checks that the binary has every export the generated ABI lists. */
async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
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
  return instance.exports as unknown as KernelExports;
}

/** A shared memory with the largest maximum the engine grants (4 GiB, else 1 GiB, else 256 MiB). */
function sharedMemory(): WebAssembly.Memory {
  let last: unknown;
  for (const maximum of [sharedMaxPages, 16384, 4096]) {
    try {
      return new WebAssembly.Memory({ initial: 256, maximum, shared: true });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/**
 * 'auto' stops here: the parts of a split kernel are equal and fixed, so a call waits for its slowest thread, and a
 * phone's cores past its big ones (4 at most today) would slow every call down; onnxruntime-web caps at 4 too.
 */
const AUTO_MAX_THREADS = 4;

/** The thread count asked for: a whole number from 1 to MAX_THREADS, or 'auto' (the default): one per core. */
async function threadCount(threads: number | 'auto' | undefined): Promise<number> {
  if (threads === undefined || threads === 'auto') return Math.min(AUTO_MAX_THREADS, await hardwareThreads());
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    fail(
      'INVALID_ARGUMENT',
      `threads must be 'auto' or a whole number from 1 to ${MAX_THREADS}, got ${threads}`,
      "pass threads: 1 for one thread, the number of cores to use, or 'auto'",
    );
  }
  return threads;
}

/** A team nobody stopped ends with its backend: helper threads must not outlive what they work for. */
const orphans = new FinalizationRegistry<Team>((team) => team.stop('its backend was garbage-collected'));

/**
 * Tensors live in one WebAssembly memory; the SIMD kernels work on them in place. With `threads: N > 1` (and shared
 * memory available) the memory is shared with a `Team` of N − 1 helper threads and the big kernels split over them
 * (matmul.ts, elementwise.ts); with one thread it is the plain build over an ordinary memory.
 */
export class WasmBackend implements CpuBackend {
  readonly name = 'wasm';
  readonly flavour: 'wasm-simd' | 'wasm-relaxed';
  readonly k: KernelExports;
  private heap: Heap;
  private scratch: ({ ptr: number; bytes: number } | null)[] = [null, null, null, null, null];
  /** Helper h's packing scratch (h ≥ 1; the caller's is scratch slot 0). */
  private helperScratch: ({ ptr: number; bytes: number } | null)[] = [];
  private readonly team: Team | null;
  private readonly threadsAsked: number;
  /** Why fewer threads than asked were started, if so. */
  private readonly threadsWhy: string;

  private constructor(
    flavour: 'wasm-simd' | 'wasm-relaxed',
    exports: KernelExports,
    memory: WebAssembly.Memory,
    team: Team | null = null,
    threadsAsked = 1,
    threadsWhy = '',
  ) {
    this.flavour = flavour;
    this.k = exports;
    this.heap = new Heap(memory, exports.heapBase());
    this.team = team;
    this.threadsAsked = threadsAsked;
    this.threadsWhy = threadsWhy;
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
    const flavour = relaxed ? 'wasm-relaxed' : 'wasm-simd';
    const threads = await threadCount(options.threads);
    let why = '';
    if (threads > 1 && !threadsSupported()) {
      why = 'no shared WebAssembly memory here (in a browser the page must be crossOriginIsolated)';
    } else if (threads > 1) {
      // the shared build over a shared memory, and the helpers on the same compiled module
      let team: Team | null = null;
      try {
        const memory = sharedMemory();
        const module = await WebAssembly.compile(decode(relaxed ? relaxedSharedWasmBase64 : simdSharedWasmBase64));
        const exports = await instantiate(module, memory);
        team = await Team.start(module, memory, threads - 1);
        const backend = new WasmBackend(flavour, exports, memory, team, threads);
        orphans.register(backend, team, backend);
        return backend;
      } catch (e) {
        team?.stop();
        why = `the helper threads could not start: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536 });
    const module = await WebAssembly.compile(decode(relaxed ? relaxedWasmBase64 : simdWasmBase64));
    return new WasmBackend(flavour, await instantiate(module, memory), memory, null, threads, why);
  }

  /** Threads a kernel may split over now: the team's size, or 1 (no team, or it has failed). */
  get threads(): number {
    return this.team && !this.team.failure ? this.team.size : 1;
  }

  /**
   * Runs `calls[0]` here and `calls[i]` on helper i at once (at most `threads` calls, with disjoint outputs and
   * scratch from `partScratch`); a single call runs here alone, so a kernel that does not split states its one-thread
   * call the same way. Throws WORKER_FAILED when a helper dies or stalls; later calls see `threads` = 1.
   */
  runParts(calls: readonly TeamCall[]): void {
    if (calls.length === 1) invoke(this.k, calls[0]);
    else if (!this.team) fail('INVALID_ARGUMENT', 'this wasm backend has no helper threads', 'check threads first');
    else this.team.run(this.k, calls);
  }

  /**
   * Scratch of at least `bytes` for thread `part` of a split kernel: the caller's (part 0) is its scratch slot
   * `slot`; each helper has one block of its own, valid for one `runParts` (the next request may move it).
   */
  partScratch(part: number, bytes: number, slot: 0 | 1 | 2 | 3 | 4 = 0): number {
    return part === 0 ? this.scratchPtr(bytes, slot) : this.reuse(this.helperScratch, part, bytes);
  }

  /** For tests: the team (its `misbehaveNext` and `timeoutMs`), or null in one thread. */
  threadTeamForTests(): Team | null {
    return this.team;
  }

  /** Ends the helper threads (the backend goes on in one thread). */
  destroy(): void {
    orphans.unregister(this);
    this.team?.stop('the backend was destroyed');
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
    return this.reuse(this.scratch, slot, bytes);
  }

  /** Block `i` of `blocks` if it holds `bytes`, else a larger one in its place (the old one freed). */
  private reuse(blocks: ({ ptr: number; bytes: number } | null)[], i: number, bytes: number): number {
    const cur = blocks[i];
    if (cur && cur.bytes >= bytes) return cur.ptr;
    if (cur) this.heap.release(cur.ptr, cur.bytes);
    const next = this.heap.alloc(bytes);
    blocks[i] = next;
    return next.ptr;
  }

  /** All of linear memory as floats (index = byte offset / 4); valid until the next allocation. */
  heapF32(): Float32Array {
    return new Float32Array(this.heap.memory.buffer);
  }

  ptr(storage: Storage): number {
    return (storage as WasmStorage).ptr;
  }

  capabilities(): Record<string, string | number | boolean> {
    const caps: Record<string, string | number | boolean> = {
      simd: true,
      relaxedSimd: this.flavour === 'wasm-relaxed',
      relaxedSimdAvailable: relaxedSimdSupported(),
      threads: threadsSupported(),
      threadsRequested: this.threadsAsked,
      threadsInUse: this.threads,
    };
    const note = this.threadsNote();
    if (note) caps.threadsNote = note;
    return caps;
  }

  /** Why fewer threads than asked are in use, or ''. */
  private threadsNote(): string {
    return this.team?.failure ? `back to one thread: ${this.team.failure}` : this.threadsWhy;
  }

  memory() {
    return this.heap.stats();
  }

  resetPeak(): void {
    this.heap.resetPeak();
  }
}
