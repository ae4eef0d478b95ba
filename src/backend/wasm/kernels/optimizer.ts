import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStepAttrs } from '../../kernel-attrs.js';
import type { WasmBackend } from '../wasm-backend.js';

/** The fused optimiser updates in SIMD, in place on the parameter and its state (see the js reference). */
export function optimizerStepWasm(b: WasmBackend, inputs: readonly Tensor[], a: OptimizerStepAttrs): Tensor[] {
  const [p, g] = inputs;
  const ptr = (t: Tensor) => b.ptr(t.storage);
  if (a.kind === 'sgd') {
    b.k.sgdStep(ptr(p), ptr(g), inputs[2] ? ptr(inputs[2]) : 0, p.size, a.lr, a.momentum, a.weightDecay);
    return [];
  }
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  b.k.adamStep(
    ptr(p),
    ptr(g),
    ptr(inputs[2]),
    ptr(inputs[3]),
    p.size,
    a.beta1,
    a.beta2,
    l2,
    keep,
    a.lr / c1,
    c2,
    a.epsilon,
  );
  return [];
}
