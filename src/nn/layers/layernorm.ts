import type { Tensor } from '../../core/tensor.js';
import { add, div, mean, moments, mul, ones, sqrt, sub, sum, zeros } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { tidy } from '../../core/scope.js';
import type { BuildContext, Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type LnSpec = Extract<LayerSpec, { type: 'layernorm' }>;

/**
 * Layer normalisation over the last `dims` per-sample axes, each sample on its own statistics (biased variance), in
 * training and evaluation alike; `gamma` and `beta` are shaped like those axes (ONNX LayerNormalization).
 */
export class LayerNorm extends BaseLayer<LnSpec> {
  /** The normalised axes of the batched input, and the others (the batch among them). */
  private readonly axes: number[];
  private readonly outer: number[];

  constructor(spec: LnSpec, inputShape: readonly number[], { backend }: BuildContext) {
    super(spec, inputShape);
    const r = inputShape.length,
      dims = spec.dims ?? 1;
    if (!(Number.isInteger(dims) && dims >= 1 && dims <= r))
      fail(
        'SPEC_INVALID',
        `layernorm dims ${dims} is not a count of the ${r} per-sample axes of ${fmt(inputShape)}`,
        `use an integer in [1, ${r}]`,
      );
    const eps = spec.epsilon ?? 1e-5;
    if (!(eps > 0 && Number.isFinite(eps)))
      fail('SPEC_INVALID', `layernorm epsilon ${eps} is not a positive number`, 'use a small positive epsilon');
    this.axes = Array.from({ length: dims }, (_, k) => r + 1 - dims + k);
    this.outer = Array.from({ length: r + 1 - dims }, (_, k) => k);
    const shape = inputShape.slice(r - dims);
    this.params.set('gamma', ones(shape, 'float32', backend));
    this.params.set('beta', zeros(shape, 'float32', backend));
  }

  forward(x: Tensor) {
    return tidy(() => {
      const { mean: m, variance: v } = moments(x, this.axes, true);
      const invStd = div(1, sqrt(add(v, this.spec.epsilon ?? 1e-5)));
      const xhat = mul(sub(x, m), invStd);
      const y = add(mul(xhat, this.param('gamma')), this.param('beta'));
      return { y, cache: { xhat, invStd } };
    });
  }

  /** dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat)), the means over the normalised axes. */
  backward(dy: Tensor, cache: Cache, wantDx = true, wantGrads = true): Gradients {
    const { xhat, invStd } = cache as { xhat: Tensor; invStd: Tensor };
    const grads: Record<string, Tensor> = wantGrads
      ? tidy(() => ({ gamma: sum(mul(dy, xhat), this.outer), beta: sum(dy, this.outer) }))
      : {};
    const dx = wantDx
      ? tidy(() => {
          const dxhat = mul(dy, this.param('gamma'));
          const a = mean(dxhat, this.axes, true),
            b = mean(mul(dxhat, xhat), this.axes, true);
          return mul(sub(sub(dxhat, a), mul(xhat, b)), invStd);
        })
      : null;
    return { dx, grads };
  }
}
