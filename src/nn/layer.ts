import type { Tensor } from '../core/tensor.js';
import type { TensorContainer } from '../core/scope.js';
import type { Rng } from '../core/rng.js';
import type { Backend } from '../backend/backend.js';

/**
 * A layer as data: what `Sequential` specs and checkpoints hold. `name` is optional: it addresses the layer where
 * one is picked by name (the attribution methods' `layer`); a layer without one is called by its type and count.
 */
export type LayerSpec = LayerKind & { name?: string };

type LayerKind =
  | {
      type: 'dense';
      units: number;
      bias?: boolean;
      /**
       * Apply to the last axis of an N-D input, every leading position alike (PyTorch's Linear, ONNX MatMul on
       * [N, …, features]); without it an N-D input is an error (a missing flatten).
       */
      lastAxis?: boolean;
    }
  | {
      type: 'conv2d';
      filters: number;
      kernel: number | [number, number];
      stride?: number | [number, number];
      /** One for all sides, [rows, columns] on both sides, or [top, left, bottom, right]. */
      pad?: number | [number, number] | [number, number, number, number];
      /** Spacing of the kernel's taps (default 1). */
      dilation?: number | [number, number];
      /** Channel groups (default 1; the input's channel count: depthwise); the weight is [filters, C / groups, …]. */
      groups?: number;
      bias?: boolean;
    }
  | {
      type: 'maxpool2d' | 'avgpool2d';
      kernel: number | [number, number];
      stride?: number | [number, number];
      /** One for all sides, [rows, columns] on both sides, or [top, left, bottom, right]. */
      pad?: number | [number, number] | [number, number, number, number];
      /** avgpool2d: divide by the window's pixels with the padding counted (ONNX count_include_pad = 1). */
      countPad?: boolean;
    }
  | { type: 'flatten' }
  /** hardswish: x·clip(x + 3, 0, 6) / 6 (ONNX HardSwish). */
  | { type: 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'hardswish' }
  /** min(max(x, min), max), bounds default −∞ / +∞ (Relu6: { min: 0, max: 6 }); the gradient is 1 strictly inside. */
  | { type: 'clip'; min?: number; max?: number }
  /** x for x > 0, alpha·x otherwise (alpha default 0.01). */
  | { type: 'leakyrelu'; alpha?: number }
  /** max(0, min(1, alpha·x + beta)), alpha default 0.2, beta 0.5 (ONNX HardSigmoid). */
  | { type: 'hardsigmoid'; alpha?: number; beta?: number }
  /**
   * Constant padding of the per-sample dimensions: pads = [begin_1 … begin_r, end_1 … end_r] (ONNX's order without
   * the batch), each ≥ 0; value default 0.
   */
  | { type: 'pad'; pads: number[]; value?: number }
  /**
   * Normalises over the last `dims` per-sample dimensions (default 1), then scales by `gamma` and shifts by `beta`
   * (parameters shaped like those dimensions); epsilon default 1e-5 (ONNX LayerNormalization, axis −dims).
   */
  | { type: 'layernorm'; dims?: number; epsilon?: number }
  /** The mean over every axis after the channel: [C, H, W] → [C, 1, 1] (ONNX GlobalAveragePool). */
  | { type: 'globalavgpool' }
  /** The per-sample shape becomes `shape` (positive, the same element count); the batch stays. */
  | { type: 'reshape'; shape: number[] }
  /** Permutes the per-sample dimensions (perm indexes them from 0); the batch stays first. */
  | { type: 'transpose'; perm: number[] }
  | { type: 'batchnorm'; momentum?: number; epsilon?: number }
  | { type: 'dropout'; rate: number }
  | { type: 'embedding'; vocab: number; dim: number }
  /**
   * A recurrent layer over a sequence [steps, features] per sample (put a reshape before it for an image: [1, 28, 28]
   * → [28, 28], rows as steps): Elman's h_t = tanh(x_t·W + h_{t−1}·U + b), or a GRU with PyTorch's equations (gates
   * r, z, n). The output is the last state [units], or with `returnSequence` every state [steps, units].
   */
  | { type: 'rnn' | 'gru'; units: number; returnSequence?: boolean }
  /**
   * The input through each branch, merged: 'concat' along the first per-sample axis (the others equal); 'add' and
   * 'mul' broadcast NumPy-style over the per-sample shapes ([C, H, W] with [C, 1, 1]: squeeze-excitation).
   */
  | { type: 'branches'; merge: 'concat' | 'add' | 'mul'; branches: LayerSpec[][] };

export interface ForwardContext {
  training: boolean;
  /** Draws dropout masks; required when training a model with dropout. */
  rng?: Rng;
}

/**
 * What a layer keeps from its forward pass for its VJP. It may alias the layer's input and output, so run
 * forward and backward inside one `tidy`, which frees whatever the cache holds.
 */
export type Cache = TensorContainer;

export interface Gradients {
  /** Gradient with respect to the layer input (absent for integer inputs such as embedding indices). */
  dx: Tensor | null;
  /** Gradients of the layer's own parameters, by local parameter name. */
  grads: Record<string, Tensor>;
}

export interface BuildContext {
  backend: Backend;
  rng: Rng;
}

/**
 * A layer is a forward and a VJP. Parameters are named tensors the layer owns; buffers (batch-norm
 * running statistics) are state that is saved but not trained.
 */
export interface Layer {
  readonly spec: LayerSpec;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: Map<string, Tensor>;
  readonly buffers: Map<string, Tensor>;
  forward(x: Tensor, ctx: ForwardContext): { y: Tensor; cache: Cache };
  /**
   * `wantDx: false` lets a layer skip the input gradient (it may then return dx: null); `wantGrads: false` its
   * parameter gradients (attribution methods need only the input gradient).
   */
  backward(dy: Tensor, cache: Cache, wantDx?: boolean, wantGrads?: boolean): Gradients;
}
