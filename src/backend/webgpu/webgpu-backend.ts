import type { Backend, Storage } from '../backend.js';
import type { DType, TypedArray } from '../../core/dtype.js';
import type { Tensor } from '../../core/tensor.js';
import { fail } from '../../core/errors.js';
import { BufferPool } from './buffer-pool.js';
import { gpuProvider } from './provider.js';

export interface GpuStorage extends Storage {
  buffer: GPUBuffer;
  bytes: number;
}

/**
 * Uniform parameters of one dispatch: named u32, i32 and f32 fields (4 bytes each) in the order they are added.
 * `struct()` is the WGSL struct body that reads them (`n: u32, stride: u32, lr: f32`), so the shader's declaration
 * and the bytes written come from the same list. Shapes travel this way: one pipeline serves every shape.
 */
export class Params {
  private fields: { name: string; type: 'u32' | 'i32' | 'f32'; value: number }[] = [];
  private add(type: 'u32' | 'i32' | 'f32', values: Readonly<Record<string, number>>): this {
    for (const [name, value] of Object.entries(values)) {
      if (this.fields.some((f) => f.name === name))
        fail('INVALID_ARGUMENT', `uniform field '${name}' is declared twice`, 'give each uniform its own name');
      this.fields.push({ name, type, value });
    }
    return this;
  }
  u(values: Readonly<Record<string, number>>): this {
    return this.add('u32', values);
  }
  i(values: Readonly<Record<string, number>>): this {
    return this.add('i32', values);
  }
  f(values: Readonly<Record<string, number>>): this {
    return this.add('f32', values);
  }
  struct(): string {
    return this.fields.map((f) => `${f.name}: ${f.type}`).join(', ');
  }
  bytes(): ArrayBuffer {
    const buf = new ArrayBuffer(Math.max(16, Math.ceil(this.fields.length / 4) * 16));
    const u = new Uint32Array(buf),
      i = new Int32Array(buf),
      f = new Float32Array(buf);
    this.fields.forEach(({ type, value }, k) => {
      if (type === 'f32') f[k] = value;
      else if (type === 'i32') i[k] = value;
      else u[k] = value;
    });
    return buf;
  }
}

/** The WebGPU flag values (fixed by the spec), so nothing depends on the GPUBufferUsage globals existing. */
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

/** At most this many dispatches wait in one command buffer before it is submitted. */
const BATCH = 64;
/**
 * At most this many compiled pipelines are kept; the least recently used goes first. Kernels pass shapes as
 * uniforms, so a kernel needs one pipeline per variant (op, dtype, rank, …), not one per shape: the bound is a
 * safety net, and `capabilities()` counts what was created and evicted.
 */
export const PIPELINE_CACHE_SIZE = 256;
const MAX_GROUPS = 65535;

/**
 * WebGPU backend: tensors live in pooled GPU buffers (4 bytes an element for every dtype) and stay there
 * between kernels; dispatches are recorded into one compute pass and submitted in batches, or when the CPU
 * needs data (`readAsync`, `write`). Reading is asynchronous only: `dataSync()` on a WebGPU tensor is an
 * error that says to `await tensor.data()`.
 */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  readonly flavour: string;
  readonly asyncOnly = true;
  private pool: BufferPool;
  private uniformPool: BufferPool;
  private uniformsInBatch: { buffer: GPUBuffer; bytes: number }[] = [];
  /** Compiled pipelines by WGSL source, least recently used first (a Map iterates in insertion order). */
  private pipelines = new Map<string, GPUComputePipeline>();
  private pipelinesCreated = 0;
  private pipelinesEvicted = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private lostReason: string | null = null;
  /** The matmul kernel this adapter runs faster (measured once per adapter at creation). */
  matMulVariant: 'tiled' | 'blocked' = 'tiled';
  /** That measurement: each kernel's time in ms and the one chosen (null until `tuneMatMul` has run). */
  matMulChoice: Readonly<{ tiled: number; blocked: number; chosen: 'tiled' | 'blocked' }> | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly adapterName: string,
    readonly fallbackAdapter: boolean,
    readonly features: string[],
  ) {
    this.flavour = fallbackAdapter ? 'webgpu-fallback' : 'webgpu';
    this.pool = new BufferPool(device, USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST);
    this.uniformPool = new BufferPool(device, USAGE.UNIFORM | USAGE.COPY_DST);
    void device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  static async create(): Promise<WebGpuBackend> {
    const gpu = gpuProvider();
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      fail(
        'BACKEND_UNAVAILABLE',
        'WebGPU found no adapter',
        'no GPU (or software adapter) is available; the wasm backend runs instead',
      );
    const wanted: GPUFeatureName[] = (['shader-f16', 'subgroups', 'timestamp-query'] as GPUFeatureName[]).filter((f) =>
      adapter.features.has(f),
    );
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: wanted,
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      },
    });
    const info = adapter.info;
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    return new WebGpuBackend(device, name, info.isFallbackAdapter ?? false, [...device.features]);
  }

  get lost(): boolean {
    return this.lostReason !== null;
  }

  alloc(size: number, dtype: DType): Storage {
    this.checkAlive();
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (size * 4 > limit) {
      fail(
        'INVALID_ARGUMENT',
        `a ${size * 4}-byte tensor exceeds this adapter's ${limit}-byte storage binding limit`,
        'use smaller batches on this device (kernels do not split tensors across bindings yet), or the wasm backend',
      );
    }
    const { buffer, bytes } = this.pool.acquire(Math.max(4, size * 4));
    return { size, dtype, refs: 1, buffer, bytes } as GpuStorage;
  }

  free(storage: Storage): void {
    const s = storage as GpuStorage;
    this.pool.release(s.buffer, s.bytes);
  }

  write(storage: Storage, values: TypedArray): void {
    this.checkAlive();
    // a pooled buffer may still be read by recorded commands: they must run before the new contents land
    this.flush();
    const s = storage as GpuStorage;
    const data = s.dtype === 'uint8' ? Uint32Array.from(values as Uint8Array) : values;
    this.device.queue.writeBuffer(s.buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, s.size * 4);
  }

  read(): TypedArray {
    return fail(
      'BACKEND_MISMATCH',
      'a WebGPU tensor cannot be read synchronously',
      'use `await tensor.data()` (WebGPU reads are asynchronous)',
    );
  }

  async readAsync(storage: Storage): Promise<TypedArray> {
    this.checkAlive();
    const s = storage as GpuStorage;
    const bytes = Math.max(4, s.size * 4);
    const staging = this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: USAGE.MAP_READ | USAGE.COPY_DST,
    });
    this.endPass();
    this.encoderNow().copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.flush();
    try {
      await staging.mapAsync(MAP_READ_MODE);
    } catch (e) {
      this.checkAlive(); // a lost device is the typed error that moves training to wasm
      throw e;
    }
    const raw = staging.getMappedRange().slice(0, s.size * 4);
    staging.unmap();
    staging.destroy();
    if (s.dtype === 'float32') return new Float32Array(raw);
    if (s.dtype === 'int32') return new Int32Array(raw);
    return Uint8Array.from(new Uint32Array(raw));
  }

  /** Records one compute dispatch; inputs bind first (read-only), then outputs, then the parameters. */
  run(
    code: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    params: Params | null,
    groups: readonly number[],
  ): void {
    this.checkAlive();
    const [x, y = 1, z = 1] = groups;
    if (x === 0 || y === 0 || z === 0) return;
    const pipeline = this.pipeline(code);
    const entries: GPUBindGroupEntry[] = [...inputs, ...outputs].map((t, i) => ({
      binding: i,
      resource: { buffer: (t.storage as GpuStorage).buffer },
    }));
    if (params) {
      const data = params.bytes();
      const u = this.uniformPool.acquire(data.byteLength);
      this.device.queue.writeBuffer(u.buffer, 0, data);
      this.uniformsInBatch.push(u);
      entries.push({ binding: entries.length, resource: { buffer: u.buffer, size: data.byteLength } });
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    this.pass ??= this.encoderNow().beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(x, y, z);
    if (++this.pending >= BATCH) this.flush();
  }

  /**
   * Workgroup counts for `n` invocations of `size` threads: [x, y] with x ≤ 65535; the shader's linear index is gid.x +
   * gid.y·(x·size).
   */
  grid(n: number, size: number): { groups: [number, number]; stride: number } {
    const total = Math.ceil(n / size);
    const x = Math.min(total, MAX_GROUPS),
      y = Math.ceil(total / x) || 1;
    return { groups: [x, y], stride: x * size };
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (!this.encoder) return;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pending = 0;
    // the uniforms of a submitted batch may be rewritten now: later writes are ordered after it on the queue
    for (const u of this.uniformsInBatch) this.uniformPool.release(u.buffer, u.bytes);
    this.uniformsInBatch = [];
  }

  /** Resolves when the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  capabilities() {
    return {
      adapter: this.adapterName,
      fallbackAdapter: this.fallbackAdapter,
      features: this.features.join(' '),
      maxStorageBufferBindingSize: this.device.limits.maxStorageBufferBindingSize,
      pipelinesCached: this.pipelines.size,
      pipelinesCreated: this.pipelinesCreated,
      pipelinesEvicted: this.pipelinesEvicted,
    };
  }

  memory() {
    return {
      bytesInUse: this.pool.inUse,
      peakBytesInUse: this.pool.peak,
      bytesReserved: this.pool.reserved,
      allocations: this.pool.count,
    };
  }

  resetPeak(): void {
    this.pool.peak = this.pool.inUse;
  }

  /** Frees the device (its buffers go with it). */
  destroy(): void {
    this.flush();
    this.lostReason ??= 'destroyed';
    this.pool.destroy();
    this.uniformPool.destroy();
    this.device.destroy();
  }

  private pipeline(code: string): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (p) {
      // most recently used: to the end of the order
      this.pipelines.delete(code);
      this.pipelines.set(code, p);
      return p;
    }
    p = this.device.createComputePipeline({
      layout: 'auto',
      compute: { module: this.device.createShaderModule({ code }), entryPoint: 'main' },
    });
    this.pipelinesCreated++;
    this.pipelines.set(code, p);
    if (this.pipelines.size > PIPELINE_CACHE_SIZE) {
      const oldest = this.pipelines.keys().next().value as string;
      this.pipelines.delete(oldest);
      this.pipelinesEvicted++;
    }
    return p;
  }

  private encoderNow(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private checkAlive(): void {
    if (this.lostReason)
      fail(
        'DEVICE_LOST',
        `the WebGPU device was lost (${this.lostReason})`,
        'training moves to wasm from its last synced step; create a new backend to use WebGPU again',
      );
  }
}
