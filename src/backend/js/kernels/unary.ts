import type { CpuBackend } from '../../backend.js';
import type { Tensor } from '../../../core/tensor.js';
import { makeTensor } from '../../engine.js';
import type { UnaryOp } from '../../kernel-names.js';
import type { UnaryAttrs } from '../../kernel-attrs.js';
import { f32 } from './views.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf through the Numerical Recipes Chebyshev fit of erfc: |relative error| < 1.2e-7 everywhere. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export const unaryFns: Record<UnaryOp, (x: number) => number> = {
  // biome-ignore lint/complexity/useMathMinMax: relu(NaN) is 0 here; Math.max(NaN, 0) would be NaN
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  neg: (x) => -x,
  abs: Math.abs,
  square: (x) => x * x,
  sign: Math.sign,
};

/** f′ written with the forward input x or output y, as `unaryGradUses` says; returns dy·f′. */
export const unaryGradFns: Record<UnaryOp, (dy: number, v: number) => number> = {
  relu: (dy, x) => (x > 0 ? dy : 0),
  sigmoid: (dy, y) => dy * y * (1 - y),
  tanh: (dy, y) => dy * (1 - y * y),
  gelu: (dy, x) => dy * (0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)),
  exp: (dy, y) => dy * y,
  log: (dy, x) => dy / x,
  sqrt: (dy, y) => dy / (2 * y),
  neg: (dy) => -dy,
  abs: (dy, x) => (x > 0 ? dy : x < 0 ? -dy : 0),
  square: (dy, x) => 2 * x * dy,
  sign: () => 0,
};

export function unaryRef(b: CpuBackend, [x]: readonly Tensor[], { op }: UnaryAttrs): Tensor {
  const out = makeTensor(b, x.shape);
  const X = f32(b, x),
    Y = f32(b, out),
    f = unaryFns[op];
  for (let i = 0; i < X.length; i++) Y[i] = f(X[i]);
  return out;
}

/** inputs: dy and the forward input or output (see unaryGradUses). */
export function unaryGradRef(b: CpuBackend, [dy, v]: readonly Tensor[], { op }: UnaryAttrs): Tensor {
  const out = makeTensor(b, dy.shape);
  const DY = f32(b, dy),
    V = f32(b, v),
    DX = f32(b, out),
    f = unaryGradFns[op];
  for (let i = 0; i < DY.length; i++) DX[i] = f(DY[i], V[i]);
  return out;
}
