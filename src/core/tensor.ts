import type { Backend, Storage } from '../backend/backend.js';
import type { DType, TypedArray } from './dtype.js';
import { fail } from './errors.js';
import { fmt, sizeOf, type Shape } from './shape.js';
import { track, untrack } from './scope.js';

let nextId = 0;

/** An n-dimensional array owned by one backend. Dispose it, or create it inside `tidy`. */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  readonly backend: Backend;
  private _storage: Storage | null;

  constructor(backend: Backend, storage: Storage, shape: Shape) {
    this.backend = backend;
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.dtype = storage.dtype;
    track(this);
  }

  get rank(): number {
    return this.shape.length;
  }
  get disposed(): boolean {
    return this._storage === null;
  }

  /** The backend storage; throws if the tensor was disposed. */
  get storage(): Storage {
    if (this._storage === null) {
      fail(
        'TENSOR_DISPOSED',
        `tensor #${this.id} ${fmt(this.shape)} was already disposed`,
        'keep it alive with keep() or return it from tidy() if you still need it',
      );
    }
    return this._storage;
  }

  /** A copy of the elements, row-major. */
  dataSync(): TypedArray {
    return this.backend.read(this.storage);
  }

  /** A copy of the elements, on every backend (WebGPU reads back asynchronously). */
  async data(): Promise<TypedArray> {
    const s = this.storage;
    return this.backend.readAsync ? this.backend.readAsync(s) : this.backend.read(s);
  }

  /** Plain nested-free array, handy in tests and the CLI. */
  toArray(): number[] {
    return Array.from(this.dataSync());
  }

  /** A tensor of another shape over the same storage (no copy). */
  reshape(shape: Shape): Tensor {
    const target = resolveShape(shape, this.size);
    if (sizeOf(target) !== this.size) {
      fail(
        'SHAPE_MISMATCH',
        `cannot reshape ${fmt(this.shape)} (${this.size} elements) to ${fmt(shape)}`,
        'the new shape must hold the same number of elements',
      );
    }
    const s = this.storage;
    s.refs++;
    return new Tensor(this.backend, s, target);
  }

  dispose(): void {
    if (this._storage === null) return;
    const s = this._storage;
    this._storage = null;
    untrack(this);
    if (--s.refs === 0) this.backend.free(s);
  }

  toString(): string {
    return `Tensor#${this.id}(${fmt(this.shape)}, ${this.dtype}, ${this.backend.flavour})`;
  }
}

/** Fill in one -1 dimension. */
function resolveShape(shape: Shape, size: number): number[] {
  const out = [...shape];
  const i = out.indexOf(-1);
  if (i >= 0) {
    const known = out.reduce((p, d, j) => (j === i ? p : p * d), 1);
    out[i] = known === 0 ? 0 : size / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0)) {
    fail(
      'SHAPE_MISMATCH',
      `cannot reshape ${size} elements to ${fmt(shape)}`,
      'use non-negative integers and at most one -1',
    );
  }
  return out;
}
