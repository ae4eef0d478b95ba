import type { Tensor } from '../core/tensor.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { arrayFor, bytesPerElement } from '../core/dtype.js';
import { fail } from '../core/errors.js';

/** Where one tensor's bytes sit in a checkpoint's data file. */
export interface TensorEntry { name: string; shape: number[]; dtype: DType; offset: number; bytes: number }

/** Named tensors → one little-endian byte block and an index (each tensor 8-byte aligned). */
export function encodeTensors(tensors: ReadonlyMap<string, Tensor>): { index: TensorEntry[]; data: Uint8Array } {
  const index: TensorEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.size * bytesPerElement[t.dtype];
    index.push({ name, shape: [...t.shape], dtype: t.dtype, offset, bytes });
    offset += Math.ceil(bytes / 8) * 8;
  }
  const data = new Uint8Array(offset);
  for (const e of index) {
    const v = tensors.get(e.name)!.dataSync();
    data.set(new Uint8Array(v.buffer, v.byteOffset, e.bytes), e.offset);
  }
  return { index, data };
}

/** The values of every entry, checked against the data's length. */
export function decodeTensors(index: readonly TensorEntry[], data: Uint8Array, source: string): Map<string, TypedArray> {
  const out = new Map<string, TypedArray>();
  for (const e of index) {
    if (e.offset + e.bytes > data.byteLength) {
      fail('DATA_INVALID', `${source}: tensor '${e.name}' needs bytes ${e.offset}–${e.offset + e.bytes} but the data holds ${data.byteLength}`,
        'the checkpoint is truncated; use an earlier one or train again');
    }
    const values = arrayFor(e.dtype, e.bytes / bytesPerElement[e.dtype]);
    new Uint8Array(values.buffer).set(data.subarray(e.offset, e.offset + e.bytes));
    out.set(e.name, values);
  }
  return out;
}
