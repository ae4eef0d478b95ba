import type { Tensor } from '../../core/tensor.js';
import { add, assign, div, mean, moments, mul, ones, sqrt, sub, sum, zeros } from '../../ops/index.js';
import { tidy } from '../../core/scope.js';
import type { BuildContext, Cache, ForwardContext, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type BnSpec = Extract<LayerSpec, { type: 'batchnorm' }>;

/**
 * Batch normalisation over every axis but the feature axis (axis 1: features of [N, F], channels of
 * [N, C, H, W]). Training normalises with the batch statistics and updates the running ones
 * (running = (1 − momentum)·running + momentum·batch, unbiased variance); evaluation uses the running ones.
 */
export class BatchNorm extends BaseLayer<BnSpec> {
  private axes: number[];
  private bshape: number[];

  constructor(spec: BnSpec, inputShape: readonly number[], { backend }: BuildContext) {
    super(spec, inputShape);
    const F = inputShape[0];
    this.axes = [0, ...inputShape.slice(1).map((_, i) => i + 2)];
    this.bshape = [1, F, ...inputShape.slice(1).map(() => 1)];
    this.params.set('gamma', ones([F], 'float32', backend));
    this.params.set('beta', zeros([F], 'float32', backend));
    this.buffers.set('runningMean', zeros([F], 'float32', backend));
    this.buffers.set('runningVar', ones([F], 'float32', backend));
  }

  private get eps() {
    return this.spec.epsilon ?? 1e-5;
  }

  forward(x: Tensor, ctx: ForwardContext) {
    const gamma = this.param('gamma').reshape(this.bshape),
      beta = this.param('beta').reshape(this.bshape);
    if (!ctx.training) {
      const rm = this.buffers.get('runningMean')!.reshape(this.bshape),
        rv = this.buffers.get('runningVar')!.reshape(this.bshape);
      const invStd = tidy(() => div(1, sqrt(add(rv, this.eps))));
      const xhat = tidy(() => mul(sub(x, rm), invStd));
      return { y: tidy(() => add(mul(xhat, gamma), beta)), cache: { xhat, invStd, training: false } };
    }
    const { mean: m, variance: v } = moments(x, this.axes, true);
    const invStd = tidy(() => div(1, sqrt(add(v, this.eps))));
    const xhat = tidy(() => mul(sub(x, m), invStd));
    const y = tidy(() => add(mul(xhat, gamma), beta));
    this.updateRunning(m, v, x.size / this.inputShape[0]);
    return { y, cache: { xhat, invStd, training: true } };
  }

  private updateRunning(m: Tensor, v: Tensor, count: number): void {
    const mom = this.spec.momentum ?? 0.1,
      unbias = count > 1 ? count / (count - 1) : 1;
    // in place, like parameters: whoever holds these tensors (a Branches layer, a checkpoint) keeps valid ones
    for (const [name, batch, scale] of [
      ['runningMean', m, 1],
      ['runningVar', v, unbias],
    ] as const) {
      const running = this.buffers.get(name)!;
      tidy(() => assign(running, add(mul(running, 1 - mom), mul(batch.reshape(running.shape), mom * scale))));
    }
  }

  /**
   * With batch statistics dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat)); with the running
   * statistics (evaluation) the normalisation is a fixed affine map and dx = dxhat · invStd.
   */
  backward(dy: Tensor, cache: Cache, _wantDx = true, wantGrads = true): Gradients {
    const { xhat, invStd, training } = cache as { xhat: Tensor; invStd: Tensor; training: boolean };
    const gamma = this.param('gamma').reshape(this.bshape);
    const grads: Record<string, Tensor> = wantGrads
      ? { gamma: sum(mul(dy, xhat), this.axes), beta: sum(dy, this.axes) }
      : {};
    const dx = tidy(() => {
      const dxhat = mul(dy, gamma);
      if (!training) return mul(dxhat, invStd);
      const a = mean(dxhat, this.axes, true),
        b = mean(mul(dxhat, xhat), this.axes, true);
      return mul(sub(sub(dxhat, a), mul(xhat, b)), invStd);
    });
    return { dx, grads };
  }
}
