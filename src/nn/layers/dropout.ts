import type { Tensor } from '../../core/tensor.js';
import { dropoutMask, mul } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import type { Cache, ForwardContext, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

/** Inverted dropout: identity at evaluation, random mask (scaled by 1/(1 − rate)) in training. */
export class Dropout extends BaseLayer<Extract<LayerSpec, { type: 'dropout' }>> {
  forward(x: Tensor, ctx: ForwardContext) {
    if (!ctx.training || this.spec.rate === 0) return { y: x.reshape(x.shape), cache: null };
    if (!ctx.rng)
      fail(
        'INVALID_ARGUMENT',
        'dropout in training needs a random generator',
        'pass { training: true, rng } to forward',
      );
    const mask = dropoutMask(x.shape, this.spec.rate, ctx.rng, x.backend);
    return { y: mul(x, mask), cache: mask };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    return { dx: cache ? mul(dy, cache as Tensor) : dy.reshape(dy.shape), grads: {} };
  }
}
