import type { Backend } from './backend.js';
import { getKernel } from './registry.js';
import type { KernelName } from './kernel-names.js';
import type { KernelAttrs } from './kernel-attrs.js';
import { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt, type Shape } from '../core/shape.js';
import type { DType } from '../core/dtype.js';

let checkNumerics = false;

/** When on, every float output is scanned and a NaN or ±Inf raises NON_FINITE naming the kernel. */
export function setCheckNumerics(on: boolean): void {
  checkNumerics = on;
}

/** Whether `setCheckNumerics(true)` is in force. */
export function numericsChecked(): boolean {
  return checkNumerics;
}

/** A new tensor of the given shape on a backend (contents unspecified). Kernels use it for outputs. */
export function makeTensor(backend: Backend, shape: Shape, dtype: DType = 'float32'): Tensor {
  let size = 1;
  for (const d of shape) size *= d;
  return new Tensor(backend, backend.alloc(size, dtype), shape);
}

/** The attrs argument of `runKernel`: required where the kernel has attributes, optional where it takes none. */
export type AttrsArgs<K extends KernelName> =
  Record<string, never> extends KernelAttrs[K]
    ? [attrs?: KernelAttrs[K], on?: Backend]
    : [attrs: KernelAttrs[K], on?: Backend];

/**
 * Run a kernel on the backend that owns the inputs (or `on`, for kernels without inputs). `attrs` has the type
 * `KernelAttrs[name]` (kernel-attrs.ts): a wrong attribute does not compile.
 */
export function runKernel<K extends KernelName>(name: K, inputs: readonly Tensor[], ...args: AttrsArgs<K>): Tensor[] {
  const [given, on] = args;
  // only kernels whose attrs type admits {} (NoAttrs) may leave attrs out
  const attrs = (given ?? {}) as KernelAttrs[K];
  const backend = on ?? inputs[0]?.backend;
  if (!backend) fail('INVALID_ARGUMENT', `kernel '${name}' got no inputs and no backend`, 'pass a backend');
  for (const t of inputs) {
    t.storage; // throws TENSOR_DISPOSED
    if (t.backend !== backend) {
      fail(
        'BACKEND_MISMATCH',
        `kernel '${name}': ${t} lives on ${t.backend.flavour} but the others on ${backend.flavour}`,
        'create all operands on the same backend (or copy one over with toBackend)',
      );
    }
  }
  const out = getKernel(name, backend.name).kernelFunc(backend, inputs, attrs);
  const outs = Array.isArray(out) ? out : [out];
  if (checkNumerics) for (const t of outs) assertFinite(t, name);
  return outs;
}

function assertFinite(t: Tensor, kernel: string): void {
  if (t.dtype !== 'float32' || t.backend.asyncOnly) return; // device-resident values are not scanned
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      fail(
        'NON_FINITE',
        `kernel '${kernel}' produced ${d[i]} at flat index ${i} of its ${fmt(t.shape)} output`,
        'check the inputs for values outside the function domain (log/sqrt of negatives, division by zero) ' +
          'or lower the learning rate',
      );
    }
  }
}
