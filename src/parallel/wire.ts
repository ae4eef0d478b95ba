import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import type { DType, TypedArray } from '../core/dtype.js';
import { tensor } from '../ops/index.js';

/** A tensor as it crosses threads: shape, dtype and a buffer of its own (so it can be transferred). */
export interface WireTensor {
  shape: number[];
  dtype: DType;
  data: TypedArray;
}

/** A copy of `t`'s values in a fresh buffer (read back from the device where it lives on one). */
export async function toWire(t: Tensor): Promise<WireTensor> {
  const v = await t.data();
  return { shape: [...t.shape], dtype: t.dtype, data: v.slice() as TypedArray };
}

export function fromWire(w: WireTensor, backend: Backend): Tensor {
  return tensor(w.data, w.shape, w.dtype, backend);
}
