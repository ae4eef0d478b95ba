import type { Tensor } from '../../core/tensor.js';

/** Updates parameters in place from their gradients; its state (moments, step count) can be saved. */
export interface Optimizer {
  /** The learning rate of the next step (a schedule sets it). */
  lr: number;
  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void;
  /** Named state tensors (for checkpoints); owned by the optimizer. */
  stateTensors(): Map<string, Tensor>;
  readonly steps: number;
  /**
   * The state as checkpoint slots, where it is not `stateTensors()` read as float32 (8-bit state: packed codes are
   * saved unpacked, one exact value 0…255 per element).
   */
  readSlots?(): Promise<Record<string, { shape: number[]; data: Float32Array }>>;
  /** Takes saved state back (step count, and slots as `readSlots()` or `stateTensors()` name them). */
  restore(steps: number, slots: SavedSlots, params: ReadonlyMap<string, Tensor>): void;
  dispose(): void;
}

/** Saved optimizer state by `param/slot` name. */
export type SavedSlots = Readonly<Record<string, { shape?: number[]; data: Float32Array }>>;

export interface OptimizerSpec {
  /** `…8bit`: the same update with its state block-wise quantised to 8 bits while training (Dettmers et al.). */
  type: 'sgd' | 'adam' | 'adamw' | 'sgd8bit' | 'adam8bit' | 'adamw8bit';
  lr: number;
  /** sgd: heavy-ball momentum (0 = plain SGD). */
  momentum?: number;
  /** sgd, adam: L2 penalty added to the gradient; adamw: decoupled decay of the weights. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** 8-bit optimizers: values per absmax block (default 2048, the paper's). */
  blockSize?: number;
  /** 8-bit optimizers: parameters smaller than this keep 32-bit state (default 4096, as bitsandbytes). */
  minSize8bit?: number;
}
