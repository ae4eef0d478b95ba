import type { Tensor } from '../../core/tensor.js';
import { add, matmul, randomNormal, sum, zeros } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { BuildContext, Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type DenseSpec = Extract<LayerSpec, { type: 'dense' }>;

/** y = x·W + b with W [in, out]; He-normal initialisation (std √(2/in)). */
export class Dense extends BaseLayer<DenseSpec> {
  constructor(spec: DenseSpec, inputShape: readonly number[], { backend, rng }: BuildContext) {
    super(spec, inputShape);
    if (inputShape.length !== 1) {
      fail(
        'SPEC_INVALID',
        `dense needs a flat input but gets per-sample shape ${fmt(inputShape)}`,
        'put a flatten layer before it',
      );
    }
    const fanIn = inputShape[0];
    this.outputShape = [spec.units];
    this.params.set('weight', randomNormal([fanIn, spec.units], rng, 0, Math.sqrt(2 / fanIn), backend));
    if (spec.bias !== false) this.params.set('bias', zeros([spec.units], 'float32', backend));
  }

  forward(x: Tensor) {
    const xw = matmul(x, this.param('weight'));
    const bias = this.params.get('bias');
    if (!bias) return { y: xw, cache: x };
    const y = add(xw, bias);
    xw.dispose();
    return { y, cache: x };
  }

  backward(dy: Tensor, cache: Cache, wantDx = true, wantGrads = true): Gradients {
    const x = cache as Tensor;
    const grads: Record<string, Tensor> = {};
    if (wantGrads) {
      grads.weight = matmul(x, dy, { transposeA: true });
      if (this.params.has('bias')) grads.bias = sum(dy, 0);
    }
    return { dx: wantDx ? matmul(dy, this.param('weight'), { transposeB: true }) : null, grads };
  }
}
