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
  b.k.adamStep(ptr(p), ptr(g), ptr(inputs[2]), ptr(inputs[3]), p.size, ...adamScalars(a));
  return [];
}

/** The Adam kernels' scalar arguments from the attrs (32- and 8-bit state alike): β1, β2, L2, keep, lr/c1, c2, ε. */
export function adamScalars(a: {
  beta1: number;
  beta2: number;
  step: number;
  lr: number;
  weightDecay: number;
  decoupled: boolean;
  epsilon: number;
}): [number, number, number, number, number, number, number] {
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  // AdamW decays the weight before the step (keep); Adam adds the decay to the gradient (L2)
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  return [a.beta1, a.beta2, l2, keep, a.lr / c1, c2, a.epsilon];
}
