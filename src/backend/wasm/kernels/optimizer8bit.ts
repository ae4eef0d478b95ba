import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStep8bitAttrs } from '../../kernel-attrs.js';
import type { WasmBackend } from '../wasm-backend.js';

/** The fused 8-bit optimiser updates in SIMD, in place on the parameter and its packed state (see the js reference). */
export function optimizerStep8bitWasm(b: WasmBackend, inputs: readonly Tensor[], a: OptimizerStep8bitAttrs): Tensor[] {
  const ptr = (k: number) => b.ptr(inputs[k].storage);
  const n = inputs[0].size;
  // the new state of one block, in f32, while its absmax is found (Adam: m then v)
  const scratch = b.alloc(2 * a.blockSize, 'float32');
  try {
    step(b, a, ptr, n, b.ptr(scratch));
  } finally {
    b.free(scratch);
  }
  return [];
}

function step(b: WasmBackend, a: OptimizerStep8bitAttrs, ptr: (k: number) => number, n: number, scratch: number): void {
  if (a.kind === 'sgd') {
    b.k.sgd8bitStep(ptr(0), ptr(1), ptr(2), ptr(3), ptr(4), scratch, n, a.blockSize, a.lr, a.momentum, a.weightDecay);
    return;
  }
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  b.k.adam8bitStep(
    ptr(0),
    ptr(1),
    ptr(2),
    ptr(3),
    ptr(4),
    ptr(5),
    ptr(6),
    ptr(7),
    scratch,
    n,
    a.blockSize,
    a.beta1,
    a.beta2,
    l2,
    keep,
    a.lr / c1,
    c2,
    a.epsilon,
  );
}
