import type { Tensor } from '../../../core/tensor.js';
import type { OptimizerStepAttrs } from '../../kernel-attrs.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch } from '../wgsl.js';

/**
 * The fused optimiser updates, in place on the parameter and its state; the rates come as uniforms (they change every
 * step), like the size.
 */
export function optimizerStepGpu(b: WebGpuBackend, inputs: readonly Tensor[], a: OptimizerStepAttrs): Tensor[] {
  const [p, g, ...state] = inputs;
  const { params, groups } = linearLaunch(b, p.size);
  if (a.kind === 'sgd') {
    const vel = state[0];
    const body = vel
      ? 'let d = g[i] + p.wd * w[i]; let v = p.mom * vel[i] + d; vel[i] = v; w[i] = w[i] - p.lr * v;'
      : 'let d = g[i] + p.wd * w[i]; w[i] = w[i] - p.lr * d;';
    params.f({ lr: a.lr, mom: a.momentum, wd: a.weightDecay });
    b.run(
      `${bindings(
        [['g', 'float32']],
        vel
          ? [
              ['w', 'float32'],
              ['vel', 'float32'],
            ]
          : [['w', 'float32']],
        params.struct(),
      )}\n${linear(body)}`,
      [g],
      vel ? [p, vel] : [p],
      params,
      groups,
    );
    return [];
  }
  const c1 = 1 - a.beta1 ** a.step,
    c2 = 1 - a.beta2 ** a.step;
  const l2 = a.decoupled ? 0 : a.weightDecay,
    keep = a.decoupled ? 1 - a.lr * a.weightDecay : 1;
  params.f({ b1: a.beta1, b2: a.beta2, l2, keep, step: a.lr / c1, c2, eps: a.epsilon });
  b.run(
    `${bindings(
      [['g', 'float32']],
      [
        ['w', 'float32'],
        ['m', 'float32'],
        ['v', 'float32'],
      ],
      params.struct(),
    )}
${linear(
  `let gi = g[i] + p.l2 * w[i];
  let mi = p.b1 * m[i] + (1.0 - p.b1) * gi;
  let vi = p.b2 * v[i] + (1.0 - p.b2) * gi * gi;
  m[i] = mi; v[i] = vi;
  w[i] = w[i] * p.keep - (p.step * mi) / (sqrt(vi / p.c2) + p.eps);`,
)}`,
    [g],
    [p, state[0], state[1]],
    params,
    groups,
  );
  return [];
}
