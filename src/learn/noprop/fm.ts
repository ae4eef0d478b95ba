import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { Rng } from '../../core/rng.js';
import { tidy } from '../../core/scope.js';
import { add, concat, gather, mul, randomNormal, sub } from '../../ops/index.js';
import type { Optimizer } from '../optim/index.js';
import type { StepResult } from '../rule.js';
import { weightedSquaredError } from '../losses.js';
import { Block } from './block.js';
import { blockSpec } from './block-specs.js';
import { NoPropBase, type NoPropCommonOptions } from './base.js';
import { sampleTimes, timeEmbedding, TIME_EMBED_DIM } from './time.js';

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
  readonly net: Block;
  private optimizer: Optimizer;
  private rng: Rng;
  private steps: number;

  constructor(backend: Backend, makeOptimizer: () => Optimizer, o: NoPropFMOptions) {
    super(backend, makeOptimizer, o, 1, 0);
    this.steps = o.steps ?? 40;
    this.net = new Block(blockSpec(o.block ?? 'mlp', this.embedDim), o.inputShape, this.embedDim + TIME_EMBED_DIM, backend, new Rng(o.seed * 1000 + 1));
    this.optimizer = makeOptimizer();
    this.rng = new Rng(o.seed * 1000 + 501);
  }

  protected networks() {
    return [{ prefix: 'net', owner: this.net, optimizer: this.optimizer }];
  }

  private velocity(x: Tensor, z: Tensor, ts: Float32Array, training: boolean): ReturnType<Block['forward']> {
    return this.net.forward(x, concat([z, timeEmbedding(ts, this.backend)], 1), { training, rng: this.rng });
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    const loss = tidy(() => {
      const u = gather(this.embedding, y), ts = sampleTimes(y.shape[0], this.rng);
      const z0 = randomNormal(u.shape, this.rng, 0, 1, this.backend);
      const t = this.column(ts), zt = add(mul(u, t), mul(z0, sub(1, t)));
      const { logits: v, cache } = this.velocity(x, zt, ts, true);
      const { loss, grad } = weightedSquaredError(v, sub(u, z0), 1);
      this.optimizer.step(this.net.namedParams(), this.net.backward(grad, cache));
      return loss;
    });
    return { loss: loss + this.trainHead(y) };
  }

  predict(x: Tensor): Tensor {
    const rng = new Rng(this.seed + 7), B = x.shape[0], N = this.steps;
    return tidy(() => {
      let z = randomNormal([B, this.embedDim], rng, 0, 1, this.backend);
      for (let k = 0; k < N; k++) {
        const prev = z; // one scope per step: the steps' activations never live at once
        z = tidy(() => add(prev, mul(this.velocity(x, prev, new Float32Array(B).fill(k / N), false).logits, 1 / N)));
        prev.dispose();
      }
      return this.head.predict(z);
    });
  }
}
