import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { broadcastShapes, fmt, sameShape } from '../core/shape.js';
import { unaryGradUses, type BinaryOp, type UnaryOp } from '../backend/kernel-names.js';
import { checkDType } from './check.js';
import { fill } from './creation.js';
import { tidy } from '../core/scope.js';

export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkDType(op, 'input', x, 'float32');
  return runKernel('Unary', [x], { op })[0];
}

/**
 * dy · f′ for a unary op. `v` is the forward input for relu, gelu, log, neg, abs, square and the forward
 * output for sigmoid, tanh, exp, sqrt (see `unaryGradUses`): the cheaper one to keep.
 */
export function unaryGrad(op: UnaryOp, dy: Tensor, v: Tensor): Tensor {
  if (!sameShape(dy.shape, v.shape)) {
    fail(
      'SHAPE_MISMATCH',
      `${op} gradient: dy ${fmt(dy.shape)} and the forward ` +
        `${unaryGradUses[op] === 'x' ? 'input' : 'output'} ${fmt(v.shape)} differ`,
      "pass the gradient of this op's output",
    );
  }
  return runKernel('UnaryGrad', [dy, v], { op })[0];
}

export const relu = (x: Tensor) => unary('relu', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const gelu = (x: Tensor) => unary('gelu', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const neg = (x: Tensor) => unary('neg', x);
export const abs = (x: Tensor) => unary('abs', x);
export const square = (x: Tensor) => unary('square', x);
export const sign = (x: Tensor) => unary('sign', x);

/** Elementwise with NumPy broadcasting; a number operand becomes a scalar tensor. */
export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  return tidy(() => {
    const ta = typeof a === 'number' ? fill([], a, 'float32', (b as Tensor).backend) : a;
    const tb = typeof b === 'number' ? fill([], b, 'float32', ta.backend) : b;
    checkDType(op, 'a', ta, 'float32');
    checkDType(op, 'b', tb, 'float32');
    broadcastShapes(ta.shape, tb.shape, op);
    return runKernel('Binary', [ta, tb], { op })[0];
  });
}

export const add = (a: Tensor | number, b: Tensor | number) => binary('add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number) => binary('sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number) => binary('mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number) => binary('div', a, b);
export const maximum = (a: Tensor | number, b: Tensor | number) => binary('max', a, b);
export const minimum = (a: Tensor | number, b: Tensor | number) => binary('min', a, b);
export const pow = (a: Tensor | number, b: Tensor | number) => binary('pow', a, b);
