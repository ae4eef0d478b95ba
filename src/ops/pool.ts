import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { checkDType, checkPair, checkRank } from './check.js';

export interface Pool2DOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  pad?: number | [number, number];
}

function poolAttrs(op: string, x: Tensor, o: Pool2DOptions) {
  checkRank(op, 'input', x, 4);
  checkDType(op, 'input', x, 'float32');
  const kernel = checkPair(o.kernel, 1, op, 'kernel', 1);
  const stride = checkPair(o.stride ?? o.kernel, 1, op, 'stride', 1);
  const pad = checkPair(o.pad, 0, op, 'pad', 0);
  if (pad[0] >= kernel[0] || pad[1] >= kernel[1]) {
    fail('INVALID_ARGUMENT', `${op}: padding ${pad} must be smaller than the window ${kernel}`, 'reduce the padding');
  }
  if (x.shape[2] + 2 * pad[0] < kernel[0] || x.shape[3] + 2 * pad[1] < kernel[1]) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: a ${kernel.join('×')} window does not fit a ${x.shape[2]}×${x.shape[3]} input`,
      'use a smaller window',
    );
  }
  return { kernel, stride, pad };
}

export const maxPool2d = (x: Tensor, o: Pool2DOptions) => runKernel('MaxPool', [x], poolAttrs('maxPool2d', x, o))[0];
export const avgPool2d = (x: Tensor, o: Pool2DOptions) => runKernel('AvgPool', [x], poolAttrs('avgPool2d', x, o))[0];
export const maxPool2dGrad = (dy: Tensor, x: Tensor, o: Pool2DOptions) =>
  runKernel('MaxPoolGrad', [dy, x], poolAttrs('maxPool2dGrad', x, o))[0];
export const avgPool2dGrad = (dy: Tensor, x: Tensor, o: Pool2DOptions) =>
  runKernel('AvgPoolGrad', [dy], { ...poolAttrs('avgPool2dGrad', x, o), shape: [...x.shape] })[0];
