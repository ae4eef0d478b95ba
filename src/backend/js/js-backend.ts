import type { CpuBackend, Storage } from '../backend.js';
import { arrayFor, bytesPerElement, type DType, type TypedArray } from '../../core/dtype.js';

interface JsStorage extends Storage {
  data: TypedArray;
}

/** Plain typed arrays in the JS heap; the reference every other backend is tested against. */
export class JsBackend implements CpuBackend {
  readonly name = 'js';
  readonly flavour = 'js';
  private bytes = 0;
  private peak = 0;
  private count = 0;

  alloc(size: number, dtype: DType): Storage {
    this.bytes += size * bytesPerElement[dtype];
    this.peak = Math.max(this.peak, this.bytes);
    this.count++;
    const s: JsStorage = { size, dtype, refs: 1, data: arrayFor(dtype, size) };
    return s;
  }

  free(storage: Storage): void {
    this.bytes -= storage.size * bytesPerElement[storage.dtype];
    this.count--;
    (storage as JsStorage).data = arrayFor(storage.dtype, 0);
  }

  write(storage: Storage, values: TypedArray): void {
    (storage as JsStorage).data.set(values);
  }

  read(storage: Storage): TypedArray {
    return (storage as JsStorage).data.slice();
  }

  view(storage: Storage): TypedArray {
    return (storage as JsStorage).data;
  }

  capabilities(): Record<string, string | boolean | number> {
    return { kernels: 'reference (TypeScript)' };
  }

  memory() {
    return { bytesInUse: this.bytes, peakBytesInUse: this.peak, bytesReserved: this.bytes, allocations: this.count };
  }

  resetPeak(): void {
    this.peak = this.bytes;
  }
}
