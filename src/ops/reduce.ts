import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { normAxes, sameShape } from '../core/shape.js';
import { checkDType } from './check.js';
import { mul } from './elementwise.js';
import { tidy } from '../core/scope.js';

export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  checkDType('sum', 'input', x, 'float32');
  return runKernel('Sum', [x], { axes: normAxes(axes, x.rank, 'sum'), keepDims })[0];
}

export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(axes, x.rank, 'mean');
  const count = ax.reduce((p, a) => p * x.shape[a], 1);
  return tidy(() => mul(sum(x, ax, keepDims), 1 / count));
}

export function max(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  checkDType('max', 'input', x, 'float32');
  return runKernel('Max', [x], { axes: normAxes(axes, x.rank, 'max'), keepDims })[0];
}

export function argmax(x: Tensor, axis = -1, keepDims = false): Tensor {
  checkDType('argmax', 'input', x, 'float32');
  return runKernel('Argmax', [x], { axis: normAxes(axis, x.rank, 'argmax')[0], keepDims })[0];
}

/** Mean and biased variance over `axes` — the statistics batch normalisation needs. */
export function moments(
  x: Tensor,
  axes: number | readonly number[],
  keepDims = false,
): { mean: Tensor; variance: Tensor } {
  checkDType('moments', 'input', x, 'float32');
  const [m, v] = runKernel('Moments', [x], { axes: normAxes(axes, x.rank, 'moments'), keepDims });
  return { mean: m, variance: v };
}

/**
 * Sum a broadcast result's gradient back to an operand's shape: the adjoint of broadcasting.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g.reshape(shape);
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tidy(() => sum(g, axes).reshape(shape));
}
