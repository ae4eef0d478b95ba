import type { DType } from '../core/dtype.js';
import type { Rng } from '../core/rng.js';
import type { BinaryOp, KernelName, UnaryOp } from './kernel-names.js';

/**
 * The attributes every kernel takes, one type per kernel name: `runKernel(name, inputs, attrs)` and each backend's
 * kernel table are checked against `KernelAttrs`, so a wrong or missing attribute is a compile error. Ops build them
 * after validating (shapes, dtypes, normalised axes); kernels trust them.
 */

/** Kernels that take no attributes: only `{}` fits. */
export type NoAttrs = Record<string, never>;

/** Rank-3 operands, a [Ba, M, K] (or [Ba, K, M] transposed) and b [Bb, K, N] (or [Bb, N, K]); see the js oracle. */
export interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * NCHW input, weight [O, C / groups, kh, kw]; output size = floor((H + p + pEnd − d·(k − 1) − 1) / s) + 1
 * (`convOutHW`), with `pad` the padding before (top, left) and `padEnd` after (bottom, right): ONNX's pads.
 * Output channel o reads the input channels of its group, g = ⌊o / (O / groups)⌋: C/groups·g … C/groups·(g + 1) − 1
 * (ONNX Conv's `group`; groups = C is depthwise). Tap (i, j) reads the input pixel at (oy·s − p + i·d, ox·s − p + j·d).
 */
export interface Conv2DAttrs {
  stride: [number, number];
  pad: [number, number];
  padEnd: [number, number];
  dilation: [number, number];
  groups: number;
}
export interface Conv2DGradAttrs extends Conv2DAttrs {
  /** The shape of what the gradient is for: x [N,C,H,W] for BackpropInput, w [O,C/groups,kh,kw] for BackpropFilter. */
  shape: readonly number[];
}

/**
 * NCHW pooling, `pad` before (top, left) and `padEnd` after (bottom, right): output size
 * floor((H + p + pEnd − k) / s) + 1 (`poolOutHW`). Windows are clipped to the image: max pooling ignores the padding,
 * average pooling divides by the number of real (unpadded) pixels in the window, or with `countPad` by its pixels in
 * the padded input [−p, H + pEnd) (ONNX's count_include_pad = 1; `poolCounted`).
 */
export interface PoolAttrs {
  kernel: [number, number];
  stride: [number, number];
  pad: [number, number];
  padEnd: [number, number];
  countPad: boolean;
}
export interface PoolGradAttrs extends PoolAttrs {
  /** The forward input's shape (AvgPoolGrad has no x input to read it from). */
  shape: readonly number[];
}

export interface UnaryAttrs {
  op: UnaryOp;
}
export interface BinaryAttrs {
  op: BinaryOp;
}

/** `axes` sorted and unique (the op normalises them). */
export interface ReduceAttrs {
  axes: number[];
  keepDims: boolean;
}
export interface ArgmaxAttrs {
  axis: number;
  keepDims: boolean;
}

export interface ScatterAddAttrs {
  rows: number;
}
export interface TransposeAttrs {
  perm: number[];
}
export interface ConcatAttrs {
  axis: number;
}
export interface SliceAttrs {
  axis: number;
  begin: number;
  size: number;
}
export interface CastAttrs {
  dtype: DType;
}
export interface FillAttrs {
  shape: number[];
  value: number;
  dtype: DType;
}

/** Random numbers come from the caller's seeded Rng, so every backend draws identical values. */
export interface RandomUniformAttrs {
  shape: number[];
  lo: number;
  hi: number;
  rng: Rng;
}
export interface RandomNormalAttrs {
  shape: number[];
  mean: number;
  std: number;
  rng: Rng;
}
export interface DropoutMaskAttrs {
  shape: number[];
  p: number;
  rng: Rng;
}

/**
 * Fused, in-place optimiser updates: one pass over the parameter with no temporary tensors, so an update
 * costs no memory beyond the optimiser's own state.
 */
export type OptimizerStepAttrs =
  | { kind: 'sgd'; lr: number; momentum: number; weightDecay: number }
  | {
      kind: 'adam';
      lr: number;
      beta1: number;
      beta2: number;
      epsilon: number;
      weightDecay: number;
      decoupled: boolean;
      step: number;
    };

/**
 * The same updates with the state held block-wise in 8 bits (Dettmers et al., "8-bit Optimizers via Block-wise
 * Quantization"): per state, a code table (256 sorted map values, then 255 decision thresholds), the codes packed
 * four to an int32 word (byte i is element i's code, little-endian), and one f32 absmax per block of `blockSize`.
 * inputs: param, grad, then per state (sgd: velocity; adam: m, v) its table, codes and absmax. A block is
 * dequantised, updated in f32 and requantised with its new absmax in one pass; nothing is returned.
 */
export type OptimizerStep8bitAttrs = OptimizerStepAttrs & { blockSize: number };

interface AttrsByKernel {
  MatMul: MatMulAttrs;
  Conv2D: Conv2DAttrs;
  Conv2DBackpropInput: Conv2DGradAttrs;
  Conv2DBackpropFilter: Conv2DGradAttrs;
  MaxPool: PoolAttrs;
  MaxPoolGrad: PoolAttrs;
  AvgPool: PoolAttrs;
  AvgPoolGrad: PoolGradAttrs;
  Unary: UnaryAttrs;
  UnaryGrad: UnaryAttrs;
  Binary: BinaryAttrs;
  Sum: ReduceAttrs;
  Max: ReduceAttrs;
  Argmax: ArgmaxAttrs;
  Softmax: NoAttrs;
  LogSoftmax: NoAttrs;
  CrossEntropy: NoAttrs;
  CrossEntropyGrad: NoAttrs;
  Moments: ReduceAttrs;
  DropoutMask: DropoutMaskAttrs;
  Gather: NoAttrs;
  ScatterAdd: ScatterAddAttrs;
  Transpose: TransposeAttrs;
  Concat: ConcatAttrs;
  Slice: SliceAttrs;
  Copy: NoAttrs;
  Assign: NoAttrs;
  Cast: CastAttrs;
  RandomUniform: RandomUniformAttrs;
  RandomNormal: RandomNormalAttrs;
  Fill: FillAttrs;
  OptimizerStep: OptimizerStepAttrs;
  OptimizerStep8bit: OptimizerStep8bitAttrs;
}

/** The attributes of each kernel: a kernel name without an entry above does not compile. */
export type KernelAttrs = { [K in KernelName]: AttrsByKernel[K] };

/** An entry above that names no kernel does not compile either. */
const noStrayEntries: Record<Exclude<keyof AttrsByKernel, KernelName>, never> = {};
void noStrayEntries;
