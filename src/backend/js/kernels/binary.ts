import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { BinaryOp } from '../../kernel-names.js';
import { broadcastShapes } from '../../../core/shape.js';
import type { BinaryAttrs } from '../../kernel-attrs.js';
import { broadcastStrides } from '../../shapes.js';
import { f32 } from './views.js';

export const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: Math.max,
  min: Math.min,
  pow: Math.pow,
};

export function binaryRef(b: CpuBackend, [x, y]: readonly Tensor[], { op }: BinaryAttrs): Tensor {
  const shape = broadcastShapes(x.shape, y.shape, op);
  const out = makeTensor(b, shape);
  const A = f32(b, x),
    B = f32(b, y),
    C = f32(b, out),
    f = binaryFns[op];
  const sa = broadcastStrides(x.shape, shape),
    sb = broadcastStrides(y.shape, shape);
  const rank = shape.length,
    idx = new Array<number>(rank).fill(0);
  let ia = 0,
    ib = 0;
  for (let o = 0; o < C.length; o++) {
    C[o] = f(A[ia], B[ib]);
    // odometer increment over the output index, keeping both input offsets in step
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        ia += sa[d];
        ib += sb[d];
        break;
      }
      idx[d] = 0;
      ia -= sa[d] * (shape[d] - 1);
      ib -= sb[d] * (shape[d] - 1);
    }
  }
  return out;
}
