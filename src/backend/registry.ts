import type { Backend } from './backend.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { kernelNames, type KernelName } from './kernel-names.js';
import type { KernelAttrs } from './kernel-attrs.js';

/** A kernel gets validated inputs (ops check shapes and dtypes) and returns new tensors on the same backend. */
export type KernelFn<B extends Backend, A> = (backend: B, inputs: readonly Tensor[], attrs: A) => Tensor | Tensor[];

/** One backend's kernels: every kernel name with its own attrs type (`Partial` where a backend falls back). */
export type KernelTable<B extends Backend> = { [K in KernelName]: KernelFn<B, KernelAttrs[K]> };

/** A kernel to register: its function takes exactly the attrs of `kernelName` (checked strictly). */
export interface KernelConfig<K extends KernelName = KernelName, B extends Backend = Backend> {
  kernelName: K;
  backendName: string;
  kernelFunc: KernelFn<B, KernelAttrs[K]>;
  /** Where it runs, for `layerhive info`: e.g. 'simd', 'relaxed-simd', 'js-on-heap'. */
  note?: string;
}

/** A kernel as the registry keeps it and `listKernels` lists it. */
export interface RegisteredKernel<K extends KernelName = KernelName> {
  readonly kernelName: K;
  readonly backendName: string;
  readonly note?: string;
  /**
   * Method syntax on purpose: its backend parameter is compared bivariantly, so a kernel written for one backend
   * type (`CpuBackend`, `WebGpuBackend`) is kept here; the engine calls it with the backend that owns the inputs,
   * which is the one registered under `backendName`.
   */
  kernelFunc(backend: Backend, inputs: readonly Tensor[], attrs: KernelAttrs[K]): Tensor | Tensor[];
}

const registry = new Map<string, RegisteredKernel>();
const key = (kernel: string, backend: string) => `${backend}/${kernel}`;

/** A second registration of the same (kernel, backend) is an error naming both, not an overwrite. */
function store(config: RegisteredKernel): void {
  const k = key(config.kernelName, config.backendName);
  const before = registry.get(k);
  if (before) {
    fail(
      'INVALID_ARGUMENT',
      `kernel '${config.kernelName}' is already registered for backend '${config.backendName}'` +
        (before.note ? ` (${before.note})` : ''),
      'register each kernel once per backend (is a backend module loaded twice, or two backends under one name?)',
    );
  }
  registry.set(k, config);
}

export function registerKernel<K extends KernelName, B extends Backend>(config: KernelConfig<K, B>): void {
  store(config);
}

/** Registers every kernel of a table under one backend name, in `kernelNames` order. */
export function registerKernels<B extends Backend>(
  backendName: string,
  table: Partial<KernelTable<B>>,
  note: (name: KernelName) => string,
): void {
  for (const kernelName of kernelNames) {
    const kernelFunc = table[kernelName];
    if (kernelFunc) store({ kernelName, backendName, kernelFunc, note: note(kernelName) });
  }
}

export function getKernel<K extends KernelName>(kernel: K, backend: string): RegisteredKernel<K> {
  // store() keeps each kernel under its own name, so the entry for `kernel` is a RegisteredKernel<K>
  const k = registry.get(key(kernel, backend)) as RegisteredKernel<K> | undefined;
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

export function listKernels(backend: string): RegisteredKernel[] {
  return [...registry.values()].filter((c) => c.backendName === backend);
}
