import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { checkDType, checkPair, checkRank } from './check.js';
import { convOutHW } from '../backend/shapes.js';
import { convPads } from './conv-pads.js';

export interface Conv2DOptions {
  stride?: number | [number, number];
  /** Padding: one for all sides, [rows, columns] on both sides, or [top, left, bottom, right] (ONNX's pads). */
  pad?: number | [number, number] | [number, number, number, number];
  /** Spacing of the kernel's taps (1: side by side), per axis. */
  dilation?: number | [number, number];
  /**
   * Channel groups (ONNX Conv's `group`): input and output channels split into `groups` equal parts, output part g
   * reading input part g only, with a weight [O, C / groups, kh, kw]; groups = C is a depthwise convolution.
   */
  groups?: number;
}

function convAttrs(op: string, xShape: readonly number[], wShape: readonly number[], o: Conv2DOptions) {
  const stride = checkPair(o.stride, 1, op, 'stride', 1);
  const [pad, padEnd] = convPads(op, o.pad);
  const dilation = checkPair(o.dilation, 1, op, 'dilation', 1);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    fail('INVALID_ARGUMENT', `${op}: groups ${JSON.stringify(o.groups)} is invalid`, 'use an integer ≥ 1');
  if (xShape[1] % groups !== 0 || wShape[0] % groups !== 0)
    fail(
      'SHAPE_MISMATCH',
      `${op}: ${groups} groups do not divide the ${xShape[1]} input and ${wShape[0]} output channels`,
      'use a number of groups that divides both',
    );
  if (xShape[1] / groups !== wShape[1]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: input ${fmt(xShape)} has ${xShape[1]} channels${groups > 1 ? ` in ${groups} groups` : ''} but the ` +
        `weight ${fmt(wShape)} expects ${wShape[1] * groups}`,
      'inputs are NCHW and weights [out, in / groups, kh, kw]; transpose NHWC data to NCHW',
    );
  }
  const attrs = { stride, pad, padEnd, dilation, groups };
  const [oh, ow] = convOutHW(xShape[2], xShape[3], wShape[2], wShape[3], attrs);
  if (oh < 1 || ow < 1) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: a ${wShape[2]}×${wShape[3]} kernel (dilation ${dilation}) does not fit a ${xShape[2]}×${xShape[3]} ` +
        `input with padding ${[...pad, ...padEnd]}`,
      'use a smaller kernel or more padding',
    );
  }
  return { attrs, outShape: [xShape[0], wShape[0], oh, ow] };
}

/** x [N, C, H, W] ∗ w [O, C / groups, kh, kw] → [N, O, OH, OW]. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2DOptions = {}): Tensor {
  checkRank('conv2d', 'input', x, 4);
  checkRank('conv2d', 'weight', w, 4);
  checkDType('conv2d', 'input', x, 'float32');
  checkDType('conv2d', 'weight', w, 'float32');
  const { attrs } = convAttrs('conv2d', x.shape, w.shape, options);
  return runKernel('Conv2D', [x, w], attrs)[0];
}

/** Gradient with respect to the input, given dy and the weight. */
export function conv2dBackpropInput(
  dy: Tensor,
  w: Tensor,
  xShape: readonly number[],
  options: Conv2DOptions = {},
): Tensor {
  const { attrs, outShape } = convAttrs('conv2dBackpropInput', xShape, w.shape, options);
  if (fmt(dy.shape) !== fmt(outShape)) {
    fail(
      'SHAPE_MISMATCH',
      `conv2dBackpropInput: dy ${fmt(dy.shape)} should be ${fmt(outShape)}`,
      "pass the gradient of this convolution's output",
    );
  }
  return runKernel('Conv2DBackpropInput', [dy, w], { ...attrs, shape: [...xShape] })[0];
}

/** Gradient with respect to the weight, given the input and dy. */
export function conv2dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  wShape: readonly number[],
  options: Conv2DOptions = {},
): Tensor {
  const { attrs, outShape } = convAttrs('conv2dBackpropFilter', x.shape, wShape, options);
  if (fmt(dy.shape) !== fmt(outShape)) {
    fail(
      'SHAPE_MISMATCH',
      `conv2dBackpropFilter: dy ${fmt(dy.shape)} should be ${fmt(outShape)}`,
      "pass the gradient of this convolution's output",
    );
  }
  return runKernel('Conv2DBackpropFilter', [x, dy], { ...attrs, shape: [...wShape] })[0];
}
