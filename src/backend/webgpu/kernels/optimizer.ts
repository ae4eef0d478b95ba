import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStepAttrs } from '../../js/kernels/optimizer.js';
import { Params, type WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear } from '../wgsl.js';

/**
 * The fused optimiser updates, in place on the parameter and its state; the rates come as uniforms (they change every
 * step).
 */
export function optimizerStepGpu(b: WebGpuBackend, inputs: readonly Tensor[], a: OptimizerStepAttrs): Tensor[] {
  const [p, g, ...state] = inputs;
  const n = p.size;
  const { groups, stride } = b.grid(n, 256);
  if (a.kind === 'sgd') {
    const vel = state[0];
    const body = vel
      ? 'let d = g[i] + p.wd * w[i]; let v = p.mom * vel[i] + d; vel[i] = v; w[i] = w[i] - p.lr * v;'
      : 'let d = g[i] + p.wd * w[i]; w[i] = w[i] - p.lr * d;';
    b.run(
      `${bindings(
        [['g', 'float32']],
        vel
          ? [
              ['w', 'float32'],
              ['vel', 'float32'],
            ]
          : [['w', 'float32']],
        'lr: f32, mom: f32, wd: f32',
      )}\n${linear(body, n, stride)}`,
      [g],
      vel ? [p, vel] : [p],
      new Params().f(a.lr, a.momentum, a.weightDecay),
      groups,
    );
    return [];
  }
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  b.run(
    `${bindings(
      [['g', 'float32']],
      [
        ['w', 'float32'],
        ['m', 'float32'],
        ['v', 'float32'],
      ],
      'b1: f32, b2: f32, l2: f32, keep: f32, step: f32, c2: f32, eps: f32',
    )}
${linear(
  `let gi = g[i] + p.l2 * w[i];
  let mi = p.b1 * m[i] + (1.0 - p.b1) * gi;
  let vi = p.b2 * v[i] + (1.0 - p.b2) * gi * gi;
  m[i] = mi; v[i] = vi;
  w[i] = w[i] * p.keep - (p.step * mi) / (sqrt(vi / p.c2) + p.eps);`,
  n,
  stride,
)}`,
    [g],
    [p, state[0], state[1]],
    new Params().f(a.beta1, a.beta2, l2, keep, a.lr / c1, c2, a.epsilon),
    groups,
  );
  return [];
}
