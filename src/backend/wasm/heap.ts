import { sizeClass } from '../size-class.js';

/**
 * The allocator for tensors in the kernels' linear memory. Blocks come in size classes (four per power
 * of two, so at most 25% slack); a freed block goes to its class's free list and is reused by the next
 * allocation of that class. Training loops allocate the same sizes every step, so memory stops growing
 * after the first step. Blocks are 64-byte aligned for SIMD and cache lines.
 */
const ALIGN = 64;
const PAGE = 65536;

export class Heap {
  readonly memory: WebAssembly.Memory;
  private top: number;
  private free = new Map<number, number[]>();
  private inUse = 0;
  private peak = 0;
  private count = 0;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** The class size a request rounds up to. */
  static classOf(bytes: number): number {
    return sizeClass(bytes, ALIGN);
  }

  alloc(bytes: number): { ptr: number; bytes: number } {
    const size = Heap.classOf(bytes);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    this.count++;
    const list = this.free.get(size);
    if (list?.length) return { ptr: list.pop()!, bytes: size };
    const ptr = this.top;
    this.top += size;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    return { ptr, bytes: size };
  }

  release(ptr: number, bytes: number): void {
    this.inUse -= bytes;
    this.count--;
    let list = this.free.get(bytes);
    if (!list) {
      list = [];
      this.free.set(bytes, list);
    }
    list.push(ptr);
  }

  /** Start a new peak measurement from what is in use now. */
  resetPeak(): void {
    this.peak = this.inUse;
  }

  stats() {
    return {
      bytesInUse: this.inUse,
      peakBytesInUse: this.peak,
      bytesReserved: this.memory.buffer.byteLength,
      allocations: this.count,
    };
  }
}
