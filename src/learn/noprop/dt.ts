import type { Tensor } from '../../core/tensor.js';
import type { Backend } from '../../backend/backend.js';
import { Rng } from '../../core/rng.js';
import { tidy } from '../../core/scope.js';
import { add, gather, matmul, mul, softmax } from '../../ops/index.js';
import type { Optimizer } from '../optim/index.js';
import { denoisingLoss } from '../losses.js';
import { Block } from './block.js';
import { blockSpec } from './block-specs.js';
import { cosineSchedule, type DiscreteSchedule } from './schedule.js';
import { NoPropBase, type NoPropCommonOptions } from './base.js';

export interface NoPropOptions extends NoPropCommonOptions {
  /** Number of blocks (the paper uses 10). */
  T?: number;
  /** Weight of the denoising terms (paper: 0.1). */
  eta?: number;
  /**
   * Add the posterior noise √c_t·ε at inference, as the paper does (one ε per step, shared by every row of a
   * batch). Off by default: the posterior-mean path was the more accurate one here (2 000 MNIST images, one epoch,
   * T = 10: 85–86% against 77% with noise).
   */
  inferenceNoise?: boolean;
  /** ᾱ_T, the signal share of z_T (default 0.9999). */
  maxAlphaBar?: number;
}

/**
 * NoProp-DT (Li, Teh & Pascanu 2025). Block t learns to denoise: from the image and
 * z_{t−1} ~ q(z_{t−1} | y) it predicts u_y as softmax(logits)·W, with loss
 * (T/2)·η·(SNR(t) − SNR(t−1))·‖û − u_y‖². Each block has its own optimizer and random stream and
 * gets gradients only from its own term, so blocks train independently (in parallel on workers).
 * Inference runs the blocks in order from z_0 ~ N(0, I).
 */
export class NoPropDT extends NoPropBase {
  readonly name = 'noprop-dt';
  readonly schedule: DiscreteSchedule;
  readonly blocks: Block[] = [];
  private blockOptimizers: Optimizer[] = [];
  private blockRngs: Rng[] = [];
  private eta: number;
  /**
   * Inference adds the posterior noise c_t at each step (off by default: then inference is deterministic given z_0).
   */
  readonly inferenceNoise: boolean;

  constructor(backend: Backend, makeOptimizer: () => Optimizer, o: NoPropOptions) {
    const schedule = cosineSchedule(o.T ?? 10, { maxAlphaBar: o.maxAlphaBar });
    super(backend, makeOptimizer, o, schedule.alphaBar[schedule.T], schedule.alphaBar[0]);
    this.schedule = schedule;
    this.eta = o.eta ?? 0.1;
    this.inferenceNoise = o.inferenceNoise ?? false;
    const spec = blockSpec(o.block ?? 'mlp', o.classes);
    for (let t = 1; t <= schedule.T; t++) {
      // every block's weights and noise come from its own stream: the result does not depend on which
      // worker trains which block, or in what order
      this.blocks.push(new Block(spec, o.inputShape, this.embedDim, backend, new Rng(o.seed * 1000 + t)));
      this.blockOptimizers.push(makeOptimizer());
      this.blockRngs.push(new Rng(o.seed * 1000 + 500 + t));
    }
  }

  protected networks() {
    return this.blocks.map((owner, i) => ({
      prefix: `block${i + 1}`,
      owner,
      optimizer: this.blockOptimizers[i],
      rng: this.blockRngs[i],
    }));
  }

  /** One block's update from its own loss; returns the loss. Blocks are numbered 1 … T. */
  trainBlock(t: number, x: Tensor, y: Tensor): Tensor {
    const block = this.blocks[t - 1],
      rng = this.blockRngs[t - 1],
      s = this.schedule;
    return tidy(() => {
      const W = this.embedding,
        u = gather(W, y);
      const z = this.noisy(u, s.alphaBar[t - 1], rng);
      const { logits, cache } = block.forward(x, z, { training: true, rng });
      const { loss, grad } = denoisingLoss(logits, W, u, (s.T / 2) * this.eta * (s.snr[t] - s.snr[t - 1]));
      this.blockOptimizers[t - 1].step(block.namedParams(), block.backward(grad, cache));
      return loss;
    });
  }

  protected trainNetwork(prefix: string, x: Tensor, y: Tensor): Tensor {
    return this.trainBlock(Number(prefix.slice('block'.length)), x, y);
  }

  /** The DT inference recursion z_t = a_t·û_t + b_t·z_{t−1} (+ √c_t·ε) through the blocks in order. */
  predict(x: Tensor): Tensor {
    const s = this.schedule;
    return this.integrate(x, s.T, (z, k, rng) => {
      const t = k + 1;
      const uHat = matmul(softmax(this.blocks[k].forward(x, z, { training: false }).logits), this.embedding);
      const next = add(mul(uHat, s.a[t]), mul(z, s.b[t]));
      return this.inferenceNoise && s.c[t] > 0
        ? add(next, mul(this.sharedNoise(z.shape[0], rng), Math.sqrt(s.c[t])))
        : next;
    });
  }
}
