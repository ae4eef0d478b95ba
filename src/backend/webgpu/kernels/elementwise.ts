import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { BinaryOp, UnaryOp } from '../../kernel-names.js';
import { broadcastShapes, stridesOf } from '../../../core/shape.js';
import type { BinaryAttrs, UnaryAttrs } from '../../kernel-attrs.js';
import { broadcastStrides } from '../../shapes.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { bindings, linear, linearLaunch, mathLib } from '../wgsl.js';

const unaryExpr: Record<UnaryOp, string> = {
  relu: 'max(v, 0.0)',
  sigmoid: '1.0 / (1.0 + exp_(-v))',
  tanh: 'tanh_(v)',
  gelu: '0.5 * v * (1.0 + erf_(v * 0.70710678118654752))',
  exp: 'exp_(v)',
  log: 'log(v)',
  sqrt: 'sqrt(v)',
  neg: '-v',
  abs: 'abs(v)',
  square: 'v * v',
  sign: 'sign(v)',
};

/** dy·f′ with v the forward input or output (as unaryGradUses says). */
const unaryGradExpr: Record<UnaryOp, string> = {
  relu: 'select(0.0, d, v > 0.0)',
  sigmoid: 'd * v * (1.0 - v)',
  tanh: 'd * (1.0 - v * v)',
  gelu: 'd * (0.5 * (1.0 + erf_(v * 0.70710678118654752)) + v * 0.3989422804014327 * exp_(-0.5 * v * v))',
  exp: 'd * v',
  log: 'd / v',
  sqrt: 'd / (2.0 * v)',
  neg: '-d',
  abs: 'select(select(0.0, -d, v < 0.0), d, v > 0.0)',
  square: '2.0 * v * d',
  sign: '0.0',
};

const binaryExpr: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  max: 'max(a, b)',
  min: 'min(a, b)',
  pow: 'pow_(a, b)',
};

export function unaryGpu(b: WebGpuBackend, [x]: readonly Tensor[], { op }: UnaryAttrs): Tensor {
  const out = makeTensor(b, x.shape);
  const { params, groups } = linearLaunch(b, x.size);
  const body = `let v = x[i]; y[i] = ${unaryExpr[op]};`;
  b.run(
    `${bindings([['x', 'float32']], [['y', 'float32']], params.struct())}\n${mathLib}\n${linear(body)}`,
    [x],
    [out],
    params,
    groups,
  );
  return out;
}

export function unaryGradGpu(b: WebGpuBackend, [dy, v]: readonly Tensor[], { op }: UnaryAttrs): Tensor {
  const out = makeTensor(b, dy.shape);
  const { params, groups } = linearLaunch(b, dy.size);
  b.run(
    `${bindings(
      [
        ['dy', 'float32'],
        ['fv', 'float32'],
      ],
      [['dx', 'float32']],
      params.struct(),
    )}\n${mathLib}\n${linear(`let d = dy[i]; let v = fv[i]; dx[i] = ${unaryGradExpr[op]};`)}`,
    [dy, v],
    [out],
    params,
    groups,
  );
  return out;
}

/**
 * Any broadcast: the output index is unravelled and each operand read through its (zero-for-broadcast) strides. The
 * shape and strides are uniforms, so one pipeline serves every shape of a rank (and op).
 */
export function binaryGpu(b: WebGpuBackend, [x, y]: readonly Tensor[], { op }: BinaryAttrs): Tensor {
  const shape = broadcastShapes(x.shape, y.shape, op);
  const out = makeTensor(b, shape);
  const { params, groups } = linearLaunch(b, out.size);
  const same = (s: readonly number[], t: readonly number[]) => s.length === t.length && s.every((d, i) => d === t[i]);
  let index: string;
  if (same(x.shape, shape) && same(y.shape, shape)) index = 'let ia = i; let ib = i;';
  else {
    const os = stridesOf(shape),
      sa = broadcastStrides(x.shape, shape),
      sb = broadcastStrides(y.shape, shape);
    shape.forEach((d, k) => {
      params.u({ [`os${k}`]: os[k], [`d${k}`]: d, [`sa${k}`]: sa[k], [`sb${k}`]: sb[k] });
    });
    const parts = shape.map((_, k) => `let c${k} = (i / p.os${k}) % p.d${k};`);
    const off = (s: string) => shape.map((_, k) => `c${k} * p.${s}${k}`).join(' + ') || '0u';
    index = `${parts.join(' ')} let ia = ${off('sa')}; let ib = ${off('sb')};`;
  }
  b.run(
    `${bindings(
      [
        ['xa', 'float32'],
        ['xb', 'float32'],
      ],
      [['y', 'float32']],
      params.struct(),
    )}\n${mathLib}\n${linear(`${index} let a = xa[ia]; let b = xb[ib]; y[i] = ${binaryExpr[op]};`)}`,
    [x, y],
    [out],
    params,
    groups,
  );
  return out;
}
