import type { Tensor } from '../../core/tensor.js';
import { add, div, maximum, minimum, mul, relu, sub, unaryGrad } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { tidy } from '../../core/scope.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

// Pointwise activations built from binary ops and relu's gradient (x > 0 ? dy : 0, the one indicator every
// backend has), so that they need no kernels of their own.

type Spec<T extends LayerSpec['type']> = LayerSpec & { type: T };

/** dy where lo < v < hi, 0 elsewhere (an infinite bound excludes nothing). */
function inside(dy: Tensor, v: Tensor, lo: number, hi: number): Tensor {
  return tidy(() => {
    let g = dy;
    if (lo > -Infinity) g = unaryGrad('relu', g, sub(v, lo));
    if (hi < Infinity) g = unaryGrad('relu', g, sub(hi, v));
    return g === dy ? dy.reshape(dy.shape) : g;
  });
}

/** min(max(v, lo), hi), skipping an infinite bound. */
function clamp(v: Tensor, lo: number, hi: number): Tensor {
  return tidy(() => {
    let y = v;
    if (lo > -Infinity) y = maximum(y, lo);
    if (hi < Infinity) y = minimum(y, hi);
    return y === v ? v.reshape(v.shape) : y;
  });
}

function checkNumber(type: string, what: string, v: unknown, finite: boolean): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || Number.isNaN(v) || (finite && !Number.isFinite(v)))
    fail(
      'SPEC_INVALID',
      `${type} ${what} ${String(v)} is not a${finite ? ' finite' : ''} number`,
      `give ${what} a number`,
    );
}

/** ONNX Clip; the gradient is 0 at the bounds and outside them (PyTorch's hardtanh/ReLU6). */
export class Clip extends BaseLayer<Spec<'clip'>> {
  private readonly lo: number;
  private readonly hi: number;

  constructor(spec: Spec<'clip'>, inputShape: readonly number[]) {
    super(spec, inputShape);
    checkNumber('clip', 'min', spec.min, false);
    checkNumber('clip', 'max', spec.max, false);
    this.lo = spec.min ?? -Infinity;
    this.hi = spec.max ?? Infinity;
  }

  forward(x: Tensor) {
    return { y: clamp(x, this.lo, this.hi), cache: x };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    return { dx: inside(dy, cache as Tensor, this.lo, this.hi), grads: {} };
  }
}

/** x for x > 0, alpha·x otherwise; the gradient at 0 is alpha (PyTorch's). */
export class LeakyRelu extends BaseLayer<Spec<'leakyrelu'>> {
  constructor(spec: Spec<'leakyrelu'>, inputShape: readonly number[]) {
    super(spec, inputShape);
    checkNumber('leakyrelu', 'alpha', spec.alpha, true);
  }

  private get alpha() {
    return this.spec.alpha ?? 0.01;
  }

  forward(x: Tensor) {
    return { y: tidy(() => add(relu(x), mul(minimum(x, 0), this.alpha))), cache: x };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    // g + alpha·(dy − g) with g = dy where x > 0: exactly dy there, exactly alpha·dy elsewhere
    const dx = tidy(() => {
      const g = unaryGrad('relu', dy, cache as Tensor);
      return add(g, mul(sub(dy, g), this.alpha));
    });
    return { dx, grads: {} };
  }
}

/** max(0, min(1, alpha·x + beta)); keeps alpha·x + beta for its gradient. */
export class HardSigmoid extends BaseLayer<Spec<'hardsigmoid'>> {
  constructor(spec: Spec<'hardsigmoid'>, inputShape: readonly number[]) {
    super(spec, inputShape);
    checkNumber('hardsigmoid', 'alpha', spec.alpha, true);
    checkNumber('hardsigmoid', 'beta', spec.beta, true);
  }

  private get alpha() {
    return this.spec.alpha ?? 0.2;
  }

  forward(x: Tensor) {
    const z = tidy(() => add(mul(x, this.alpha), this.spec.beta ?? 0.5));
    return { y: clamp(z, 0, 1), cache: z };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    return { dx: tidy(() => mul(inside(dy, cache as Tensor, 0, 1), this.alpha)), grads: {} };
  }
}

/**
 * x·clip(x + 3, 0, 6) / 6. Its derivative, as PyTorch's: 0 below −3, (2x + 3) / 6 on [−3, 3] (bounds included), 1
 * above 3; here clip(x + 3, 0, 6) / 6 + x / 6 on [−3, 3].
 */
export class HardSwish extends BaseLayer<Spec<'hardswish'>> {
  forward(x: Tensor) {
    return { y: tidy(() => div(mul(x, clamp(add(x, 3), 0, 6)), 6)), cache: x };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    const x = cache as Tensor;
    const dx = tidy(() => {
      const t = div(mul(dy, x), 6);
      // t on [−3, 3]: t less where x < −3 (−3 − x > 0) and where x > 3 (x − 3 > 0)
      const onBand = sub(sub(t, unaryGrad('relu', t, sub(-3, x))), unaryGrad('relu', t, sub(x, 3)));
      return add(div(mul(dy, clamp(add(x, 3), 0, 6)), 6), onBand);
    });
    return { dx, grads: {} };
  }
}
