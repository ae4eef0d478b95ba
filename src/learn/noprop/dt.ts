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
import type { Sequential } from '../../nn/sequential.js';

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

/** Step t of DT inference: z_t = a·(softmax(block(x, z_{t−1}))·W) + b·z_{t−1} (+ noise·ε). */
export interface DTStep {
  /** 1 … T: the block's number (its group is `block${t}`). */
  readonly t: number;
  readonly block: Block;
  readonly a: number;
  readonly b: number;
  /** √c_t when the rule adds the posterior noise at inference (`inferenceNoise`), else 0. */
  readonly noise: number;
}

/**
 * DT inference as data, from z_0: the steps in order, the embedding W they map class probabilities through, and the
 * head on the last z. `predict` runs it on tensors and the ONNX exporter unrolls it into a graph, both through
 * `dtStep`, so the two cannot compute different things.
 */
export interface DTInference {
  readonly embedding: Tensor;
  readonly steps: readonly DTStep[];
  readonly head: Sequential;
}

/** What a DT step does to values of type V: tensors in `predict`, graph node names in the ONNX exporter. */
export interface DTOps<V> {
  /** Block step.t's class logits for the image x and the current z. */
  logits(step: DTStep, x: V, z: V): V;
  softmax(step: DTStep, logits: V): V;
  /** Class probabilities times the embedding W: the block's estimate û of u_y. */
  embed(step: DTStep, p: V): V;
  scale(step: DTStep, v: V, by: number, what: 'a' | 'b' | 'noise'): V;
  add(step: DTStep, u: V, v: V, what: 'z' | 'noise'): V;
  /** ε ~ N(0, I) shaped like z, the same on every row. */
  noise(step: DTStep, z: V): V;
}

/** One DT inference step z_{t−1} → z_t: the only place the recursion is written. */
export function dtStep<V>(ops: DTOps<V>, step: DTStep, x: V, z: V): V {
  const uHat = ops.embed(step, ops.softmax(step, ops.logits(step, x, z)));
  const next = ops.add(step, ops.scale(step, uHat, step.a, 'a'), ops.scale(step, z, step.b, 'b'), 'z');
  if (step.noise === 0) return next;
  return ops.add(step, next, ops.scale(step, ops.noise(step, z), step.noise, 'noise'), 'noise');
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
      // every block's weights and noise come from its own named stream (a function of the seed and t only): the
      // result does not depend on which worker trains which block, or in what order
      const init = Rng.stream(o.seed, `noprop/block/${t}/init`);
      this.blocks.push(new Block(spec, o.inputShape, this.embedDim, backend, init));
      this.blockOptimizers.push(makeOptimizer());
      this.blockRngs.push(Rng.stream(o.seed, `noprop/block/${t}/train`));
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

  /** Inference as data (see `DTInference`): a_t, b_t and √c_t from the schedule, block t at step t. */
  inference(): DTInference {
    const s = this.schedule;
    return {
      embedding: this.embedding,
      head: this.head,
      steps: this.blocks.map((block, k) => {
        const t = k + 1;
        return { t, block, a: s.a[t], b: s.b[t], noise: this.inferenceNoise && s.c[t] > 0 ? Math.sqrt(s.c[t]) : 0 };
      }),
    };
  }

  /** The DT inference recursion z_t = a_t·û_t + b_t·z_{t−1} (+ √c_t·ε) through the blocks in order (`dtStep`). */
  predict(x: Tensor): Tensor {
    const plan = this.inference();
    return this.integrate(x, plan.steps.length, (z, k, rng) => {
      const ops: DTOps<Tensor> = {
        logits: (step, image, zPrev) => step.block.forward(image, zPrev, { training: false }).logits,
        softmax: (_, v) => softmax(v),
        embed: (_, p) => matmul(p, plan.embedding),
        scale: (_, v, by) => mul(v, by),
        add: (_, u, v) => add(u, v),
        noise: (_, like) => this.sharedNoise(like.shape[0], rng),
      };
      return dtStep(ops, plan.steps[k], x, z);
    });
  }
}
