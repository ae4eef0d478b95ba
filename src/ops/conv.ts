import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { checkDType, checkPair, checkRank } from './check.js';
import { convOutSize } from '../backend/shapes.js';

export interface Conv2DOptions {
  stride?: number | [number, number];
  pad?: number | [number, number];
}

function convAttrs(op: string, xShape: readonly number[], wShape: readonly number[], o: Conv2DOptions) {
  const stride = checkPair(o.stride, 1, op, 'stride', 1);
  const pad = checkPair(o.pad, 0, op, 'pad', 0);
  if (xShape[1] !== wShape[1]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: input ${fmt(xShape)} has ${xShape[1]} channels but the weight ${fmt(wShape)} expects ${wShape[1]}`,
      'inputs are NCHW and weights [out, in, kh, kw]; transpose NHWC data to NCHW',
    );
  }
  const oh = convOutSize(xShape[2], wShape[2], stride[0], pad[0]),
    ow = convOutSize(xShape[3], wShape[3], stride[1], pad[1]);
  if (oh < 1 || ow < 1) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: a ${wShape[2]}×${wShape[3]} kernel does not fit a ${xShape[2]}×${xShape[3]} input with padding ${pad}`,
      'use a smaller kernel or more padding',
    );
  }
  return { stride, pad, outShape: [xShape[0], wShape[0], oh, ow] };
}

/** x [N, C, H, W] ∗ w [O, C, kh, kw] → [N, O, OH, OW]. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2DOptions = {}): Tensor {
  checkRank('conv2d', 'input', x, 4);
  checkRank('conv2d', 'weight', w, 4);
  checkDType('conv2d', 'input', x, 'float32');
  checkDType('conv2d', 'weight', w, 'float32');
  const { stride, pad } = convAttrs('conv2d', x.shape, w.shape, options);
  return runKernel('Conv2D', [x, w], { stride, pad })[0];
}

/** Gradient with respect to the input, given dy and the weight. */
export function conv2dBackpropInput(
  dy: Tensor,
  w: Tensor,
  xShape: readonly number[],
  options: Conv2DOptions = {},
): Tensor {
  const { stride, pad, outShape } = convAttrs('conv2dBackpropInput', xShape, w.shape, options);
  if (fmt(dy.shape) !== fmt(outShape)) {
    fail(
      'SHAPE_MISMATCH',
      `conv2dBackpropInput: dy ${fmt(dy.shape)} should be ${fmt(outShape)}`,
      "pass the gradient of this convolution's output",
    );
  }
  return runKernel('Conv2DBackpropInput', [dy, w], { stride, pad, shape: [...xShape] })[0];
}

/** Gradient with respect to the weight, given the input and dy. */
export function conv2dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  wShape: readonly number[],
  options: Conv2DOptions = {},
): Tensor {
  const { stride, pad, outShape } = convAttrs('conv2dBackpropFilter', x.shape, wShape, options);
  if (fmt(dy.shape) !== fmt(outShape)) {
    fail(
      'SHAPE_MISMATCH',
      `conv2dBackpropFilter: dy ${fmt(dy.shape)} should be ${fmt(outShape)}`,
      "pass the gradient of this convolution's output",
    );
  }
  return runKernel('Conv2DBackpropFilter', [x, dy], { stride, pad, shape: [...wShape] })[0];
}
