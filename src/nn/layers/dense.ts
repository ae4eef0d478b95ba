import type { Tensor } from '../../core/tensor.js';
import { add, matmul, randomNormal, sum, zeros } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { BuildContext, Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type DenseSpec = Extract<LayerSpec, { type: 'dense' }>;

/**
 * y = x·W + b with W [in, out]; He-normal initialisation (std √(2/in)). With `lastAxis`, x may be [N, …, in]: every
 * leading position is multiplied alike ([N·…, in] · W), giving [N, …, out].
 */
export class Dense extends BaseLayer<DenseSpec> {
  constructor(spec: DenseSpec, inputShape: readonly number[], { backend, rng }: BuildContext) {
    super(spec, inputShape);
    if (inputShape.length !== 1 && !(spec.lastAxis && inputShape.length > 1)) {
      fail(
        'SPEC_INVALID',
        `dense needs a flat input but gets per-sample shape ${fmt(inputShape)}`,
        'put a flatten layer before it, or set lastAxis to apply it to the last axis',
      );
    }
    const fanIn = inputShape[inputShape.length - 1];
    this.outputShape = [...inputShape.slice(0, -1), spec.units];
    this.params.set('weight', randomNormal([fanIn, spec.units], rng, 0, Math.sqrt(2 / fanIn), backend));
    if (spec.bias !== false) this.params.set('bias', zeros([spec.units], 'float32', backend));
  }

  /** An N-D value as rows [N·…, last] (a view), or the value itself when it is already 2-D. */
  private rows(t: Tensor): Tensor {
    return t.rank === 2 ? t : t.reshape([-1, t.shape[t.rank - 1]]);
  }

  /** Rows back to [N, …, last] of the batch of `like`. */
  private unrows(t: Tensor, like: Tensor, last: number): Tensor {
    return like.rank === 2 ? t : t.reshape([...like.shape.slice(0, -1), last]);
  }

  forward(x: Tensor) {
    const xw = matmul(this.rows(x), this.param('weight'));
    const bias = this.params.get('bias');
    if (!bias) return { y: this.unrows(xw, x, this.spec.units), cache: x };
    const y = add(xw, bias);
    xw.dispose();
    return { y: this.unrows(y, x, this.spec.units), cache: x };
  }

  backward(dy: Tensor, cache: Cache, wantDx = true, wantGrads = true): Gradients {
    const x = cache as Tensor;
    const grads: Record<string, Tensor> = {};
    const d = this.rows(dy);
    if (wantGrads) {
      grads.weight = matmul(this.rows(x), d, { transposeA: true });
      if (this.params.has('bias')) grads.bias = sum(d, 0);
    }
    const dx = wantDx ? matmul(d, this.param('weight'), { transposeB: true }) : null;
    return { dx: dx && this.unrows(dx, x, x.shape[x.rank - 1]), grads };
  }
}
