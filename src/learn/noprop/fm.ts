import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { tidy } from '../../core/scope.js';
import { add, gather, mul, randomNormal, sub } from '../../ops/index.js';
import type { Optimizer } from '../optim/index.js';
import { weightedSquaredError } from '../losses.js';
import { TimedNet } from './timed-net.js';
import { NoPropBase, type NoPropCommonOptions } from './base.js';
import { sampleTimes } from './time.js';

export interface NoPropFMOptions extends NoPropCommonOptions {
  /** Euler steps at inference (default 40). */
  steps?: number;
}

/**
 * NoProp-FM (flow matching): z_t = t·u_y + (1 − t)·z_0 with z_0 ~ N(0, I), and one network v(z_t, x, t)
 * learns the velocity u_y − z_0 by ‖v − (u_y − z_0)‖² at t ~ U(0, 1). Inference integrates dz/dt = v from
 * noise at t = 0 to t = 1 with Euler steps; the head classifies z_1.
 */
export class NoPropFM extends NoPropBase {
  readonly name = 'noprop-fm';
  readonly timed: TimedNet;
  private steps: number;

  constructor(backend: Backend, makeOptimizer: () => Optimizer, o: NoPropFMOptions) {
    super(backend, makeOptimizer, o, 1, 0);
    this.steps = o.steps ?? 40;
    this.timed = new TimedNet(
      o.block ?? 'mlp',
      this.embedDim,
      o.inputShape,
      this.embedDim,
      backend,
      makeOptimizer,
      o.seed,
    );
  }

  protected networks() {
    return [this.timed.asNetwork()];
  }

  protected trainNetwork(_prefix: string, x: Tensor, y: Tensor): Tensor {
    return tidy(() => {
      const rng = this.timed.rng,
        u = gather(this.embedding, y),
        ts = sampleTimes(y.shape[0], rng);
      const z0 = randomNormal(u.shape, rng, 0, 1, this.backend);
      const t = this.column(ts),
        zt = add(mul(u, t), mul(z0, sub(1, t)));
      const { logits: v, cache } = this.timed.forward(x, zt, ts, true);
      const { loss, grad } = weightedSquaredError(v, sub(u, z0), 1);
      this.timed.learn(grad, cache);
      return loss;
    });
  }

  /** Euler steps of dz/dt = v(z, x, t) from t = 0 to 1. */
  predict(x: Tensor): Tensor {
    const B = x.shape[0],
      N = this.steps;
    return this.integrate(x, N, (z, k) =>
      add(z, mul(this.timed.forward(x, z, new Float32Array(B).fill(k / N), false).logits, 1 / N)),
    );
  }
}
