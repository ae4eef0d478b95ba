import type { Tensor } from '../../core/tensor.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

/** [N, ...] → [N, prod(...)], a view (no copy). */
export class Flatten extends BaseLayer<Extract<LayerSpec, { type: 'flatten' }>> {
  constructor(spec: Extract<LayerSpec, { type: 'flatten' }>, inputShape: readonly number[]) {
    super(spec, inputShape);
    this.outputShape = [inputShape.reduce((p, d) => p * d, 1)];
  }

  forward(x: Tensor) {
    return { y: x.reshape([x.shape[0], ...this.outputShape]), cache: null };
  }

  backward(dy: Tensor, _cache: Cache): Gradients {
    return { dx: dy.reshape([dy.shape[0], ...this.inputShape]), grads: {} };
  }
}
