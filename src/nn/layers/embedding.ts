import type { Tensor } from '../../core/tensor.js';
import { gather, randomNormal, scatterAdd } from '../../ops/index.js';
import { checkDType } from '../../ops/check.js';
import type { BuildContext, Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type EmbSpec = Extract<LayerSpec, { type: 'embedding' }>;

/** int32 indices [N] → rows of a table [vocab, dim]; the gradient scatters back into the table. */
export class Embedding extends BaseLayer<EmbSpec> {
  constructor(spec: EmbSpec, inputShape: readonly number[], { backend, rng }: BuildContext) {
    super(spec, inputShape);
    this.outputShape = [spec.dim];
    this.params.set('table', randomNormal([spec.vocab, spec.dim], rng, 0, 1, backend));
  }

  forward(x: Tensor) {
    checkDType('embedding', 'indices', x, 'int32');
    return { y: gather(this.param('table'), x), cache: x };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    return { dx: null, grads: { table: scatterAdd(dy, cache as Tensor, this.spec.vocab) } };
  }
}
