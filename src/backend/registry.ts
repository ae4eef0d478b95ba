import type { Backend } from './backend.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import type { KernelName } from './kernel-names.js';

/**
 * A kernel gets validated inputs (ops check shapes and dtypes) and returns new tensors on the same backend. The
 * attrs default to `never` so that a kernel with any attrs type fits a table of kernels.
 */
export type KernelFn<B extends Backend = Backend, A = never> = (
  backend: B,
  inputs: readonly Tensor[],
  attrs: A,
) => Tensor | Tensor[];

export interface KernelConfig<B extends Backend = Backend> {
  kernelName: KernelName;
  backendName: string;
  /**
   * Method syntax on purpose: its parameters are compared bivariantly, so a kernel written for one backend type and
   * one attrs type registers here; the engine calls it with the backend that owns the inputs and the op's attrs.
   */
  kernelFunc(backend: B, inputs: readonly Tensor[], attrs: unknown): Tensor | Tensor[];
  /** Where it runs, for `layerhive info`: e.g. 'simd', 'relaxed-simd', 'js-on-heap'. */
  note?: string;
}

const registry = new Map<string, KernelConfig>();
const key = (kernel: string, backend: string) => `${backend}/${kernel}`;

export function registerKernel(config: KernelConfig): void {
  registry.set(key(config.kernelName, config.backendName), config);
}

export function getKernel(kernel: KernelName, backend: string): KernelConfig {
  const k = registry.get(key(kernel, backend));
  if (!k) {
    const elsewhere = [...registry.values()].filter((c) => c.kernelName === kernel).map((c) => c.backendName);
    fail(
      'KERNEL_NOT_FOUND',
      `kernel '${kernel}' is not registered for backend '${backend}'`,
      elsewhere.length
        ? `it exists on: ${elsewhere.join(', ')} — move the tensors there (or choose that backend)`
        : 'no backend implements it; check the kernel name',
    );
  }
  return k;
}

export function listKernels(backend: string): KernelConfig[] {
  return [...registry.values()].filter((c) => c.backendName === backend);
}
