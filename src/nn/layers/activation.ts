import type { Tensor } from '../../core/tensor.js';
import { unary, unaryGrad } from '../../ops/index.js';
import { unaryGradUses } from '../../backend/kernel-names.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type ActSpec = LayerSpec & { type: 'relu' | 'sigmoid' | 'tanh' | 'gelu' };

/** Keeps the forward input or output, whichever its derivative needs. */
export class Activation extends BaseLayer<ActSpec> {
  forward(x: Tensor) {
    const y = unary(this.spec.type, x);
    return { y, cache: unaryGradUses[this.spec.type] === 'x' ? x : y };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    return { dx: unaryGrad(this.spec.type, dy, cache as Tensor), grads: {} };
  }
}
