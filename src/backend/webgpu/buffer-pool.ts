import { sizeClass } from '../size-class.js';

/**
 * GPU buffers in size classes (four per power of two, so at most 25% slack), reused through free lists: a
 * training loop allocates the same sizes every step, so buffers stop being created after the first one.
 */
export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  inUse = 0;
  peak = 0;
  reserved = 0;
  count = 0;

  constructor(
    private device: GPUDevice,
    private usage: GPUBufferUsageFlags,
  ) {}

  static classOf(bytes: number): number {
    return sizeClass(bytes, 256);
  }

  acquire(bytes: number): { buffer: GPUBuffer; bytes: number } {
    const size = BufferPool.classOf(bytes);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    this.count++;
    const list = this.free.get(size);
    if (list?.length) return { buffer: list.pop()!, bytes: size };
    this.reserved += size;
    return { buffer: this.device.createBuffer({ size, usage: this.usage }), bytes: size };
  }

  release(buffer: GPUBuffer, bytes: number): void {
    this.inUse -= bytes;
    this.count--;
    let list = this.free.get(bytes);
    if (!list) {
      list = [];
      this.free.set(bytes, list);
    }
    list.push(buffer);
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
