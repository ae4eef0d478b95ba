import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { checkDType, checkPair, checkRank } from './check.js';
import { convPads } from './conv-pads.js';

export interface Pool2DOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  /** One for all sides, [rows, columns] on both sides, or [top, left, bottom, right]. */
  pad?: number | [number, number] | [number, number, number, number];
  /**
   * Average pooling: divide by the window's pixels in the padded input, padding included (ONNX count_include_pad = 1);
   * default false, the real pixels only.
   */
  countPad?: boolean;
}

function poolAttrs(op: string, x: Tensor, o: Pool2DOptions) {
  checkRank(op, 'input', x, 4);
  checkDType(op, 'input', x, 'float32');
  const kernel = checkPair(o.kernel, 1, op, 'kernel', 1);
  const stride = checkPair(o.stride ?? o.kernel, 1, op, 'stride', 1);
  const [pad, padEnd] = convPads(op, o.pad);
  if ([...pad, ...padEnd].some((p, i) => p >= kernel[i % 2])) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: padding ${[...pad, ...padEnd]} must be smaller than the window ${kernel}`,
      'reduce the padding',
    );
  }
  if (x.shape[2] + pad[0] + padEnd[0] < kernel[0] || x.shape[3] + pad[1] + padEnd[1] < kernel[1]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: a ${kernel.join('×')} window does not fit a ${x.shape[2]}×${x.shape[3]} input`,
      'use a smaller window',
    );
  }
  return { kernel, stride, pad, padEnd, countPad: o.countPad === true };
}

export const maxPool2d = (x: Tensor, o: Pool2DOptions) => runKernel('MaxPool', [x], poolAttrs('maxPool2d', x, o))[0];
export const avgPool2d = (x: Tensor, o: Pool2DOptions) => runKernel('AvgPool', [x], poolAttrs('avgPool2d', x, o))[0];
export const maxPool2dGrad = (dy: Tensor, x: Tensor, o: Pool2DOptions) =>
  runKernel('MaxPoolGrad', [dy, x], poolAttrs('maxPool2dGrad', x, o))[0];
export const avgPool2dGrad = (dy: Tensor, x: Tensor, o: Pool2DOptions) =>
  runKernel('AvgPoolGrad', [dy], { ...poolAttrs('avgPool2dGrad', x, o), shape: [...x.shape] })[0];
