import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';

/** Views on tensor memory. Take them only after every output of the kernel is allocated. */
export const f32 = (b: CpuBackend, t: Tensor) => b.view(t.storage) as Float32Array;
export const i32 = (b: CpuBackend, t: Tensor) => b.view(t.storage) as Int32Array;
export const anyView = (b: CpuBackend, t: Tensor) => b.view(t.storage);
