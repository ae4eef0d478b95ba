import type { Tensor } from '../../core/tensor.js';
import { add, concat, mul, sigmoid, slice, sub, tanh, unaryGrad } from '../../ops/index.js';
import type { BuildContext, Cache } from '../layer.js';
import { RecurrentLayer, type CellGrads, type CellStep, type RecurrentSpec } from './recurrent.js';

interface GruStep {
  r: Tensor;
  z: Tensor;
  n: Tensor;
  /** h_{t−1}·U_n + b_hn, the part the reset gate scales. */
  hn: Tensor;
  hPrev: Tensor | null;
}

/**
 * A GRU layer with PyTorch's equations and gate order (r, z, n), the reset gate applied after the recurrent product
 * (ONNX's linear_before_reset = 1):
 *   r = σ(x·W_r + b_ir + h·U_r + b_hr),  z = σ(x·W_z + b_iz + h·U_z + b_hz),
 *   n = tanh(x·W_n + b_in + r ⊙ (h·U_n + b_hn)),  h′ = (1 − z) ⊙ n + z ⊙ h.
 * `weight`, `recurrentWeight`, `bias`, `recurrentBias` hold the three gates' columns side by side in that order.
 */
export class Gru extends RecurrentLayer {
  constructor(spec: RecurrentSpec, inputShape: readonly number[], ctx: BuildContext) {
    super(spec, inputShape, ctx, 3);
  }

  protected hasRecurrentBias(): boolean {
    return true;
  }

  private gate(g: Tensor, k: number): Tensor {
    return slice(g, 1, k * this.units, this.units);
  }

  cell(gx: Tensor, gh: Tensor | null, hPrev: Tensor | null): CellStep {
    // gh is never null here: the recurrent bias makes it [1, 3·units] at t = 0
    const r = sigmoid(add(this.gate(gx, 0), this.gate(gh!, 0)));
    const z = sigmoid(add(this.gate(gx, 1), this.gate(gh!, 1)));
    const hn = this.gate(gh!, 2);
    const n = tanh(add(this.gate(gx, 2), mul(r, hn)));
    // (1 − z)·n + z·h = n + z·(h − n), one product fewer
    const h = hPrev ? add(n, mul(z, sub(hPrev, n))) : sub(n, mul(z, n));
    const cache: GruStep = { r, z, n, hn, hPrev };
    return { h, cache };
  }

  cellBackward(dh: Tensor, cache: Cache): CellGrads {
    const { r, z, n, hn, hPrev } = cache as GruStep;
    const dz = mul(dh, hPrev ? sub(hPrev, n) : mul(n, -1));
    const dn = sub(dh, mul(dh, z));
    const dan = unaryGrad('tanh', dn, n);
    const dar = unaryGrad('sigmoid', mul(dan, hn), r);
    const daz = unaryGrad('sigmoid', dz, z);
    return {
      dgx: concat([dar, daz, dan], 1),
      dgh: concat([dar, daz, mul(dan, r)], 1),
      dhDirect: hPrev ? mul(dh, z) : null,
    };
  }
}
