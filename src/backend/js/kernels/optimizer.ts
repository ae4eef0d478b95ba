import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStepAttrs } from '../../kernel-attrs.js';
import { f32 } from './views.js';

/**
 * Fused, in-place optimiser updates: one pass over the parameter with no temporary tensors, so an update
 * costs no memory beyond the optimiser's own state.
 */

/** inputs: param, grad, then the state (sgd with momentum: velocity; adam: m, v). Returns nothing. */
export function optimizerStepRef(b: CpuBackend, inputs: readonly Tensor[], a: OptimizerStepAttrs): Tensor[] {
  const p = f32(b, inputs[0]),
    g = f32(b, inputs[1]);
  if (a.kind === 'sgd') {
    const vel = inputs[2] ? f32(b, inputs[2]) : null;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] + a.weightDecay * p[i];
      let d = gi;
      if (vel) {
        // d is the unrounded sum, as before: the Float32Array stores a rounded copy.
        d = a.momentum * vel[i] + gi;
        vel[i] = d;
      }
      p[i] -= a.lr * d;
    }
    return [];
  }
  const m = f32(b, inputs[2]),
    v = f32(b, inputs[3]);
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] + l2 * p[i];
    // mi and vi are the unrounded values; the Float32Arrays store rounded copies.
    const mi = a.beta1 * m[i] + (1 - a.beta1) * gi;
    const vi = a.beta2 * v[i] + (1 - a.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * keep - (a.lr * (mi / c1)) / (Math.sqrt(vi / c2) + a.epsilon);
  }
  return [];
}
