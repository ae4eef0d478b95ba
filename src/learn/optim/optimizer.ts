import type { Tensor } from '../../core/tensor.js';

/** Updates parameters in place from their gradients; its state (moments, step count) can be saved. */
export interface Optimizer {
  /** The learning rate of the next step (a schedule sets it). */
  lr: number;
  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void;
  /** Named state tensors (for checkpoints); owned by the optimizer. */
  stateTensors(): Map<string, Tensor>;
  readonly steps: number;
  /** Takes saved state back (step count, and `stateTensors()` values keyed alike) for the given parameters. */
  restore(
    steps: number,
    slots: Readonly<Record<string, { data: Float32Array }>>,
    params: ReadonlyMap<string, Tensor>,
  ): void;
  dispose(): void;
}

export interface OptimizerSpec {
  type: 'sgd' | 'adam' | 'adamw';
  lr: number;
  /** sgd: heavy-ball momentum (0 = plain SGD). */
  momentum?: number;
  /** sgd, adam: L2 penalty added to the gradient; adamw: decoupled decay of the weights. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}
