import type { Tensor } from '../../core/tensor.js';
import { add, tanh, unaryGrad } from '../../ops/index.js';
import type { BuildContext, Cache } from '../layer.js';
import { RecurrentLayer, type CellGrads, type CellStep, type RecurrentSpec } from './recurrent.js';

/** Elman's recurrent layer: h_t = tanh(x_t·W + h_{t−1}·U + b) (PyTorch's nn.RNN with one bias). */
export class Rnn extends RecurrentLayer {
  constructor(spec: RecurrentSpec, inputShape: readonly number[], ctx: BuildContext) {
    super(spec, inputShape, ctx, 1);
  }

  protected hasRecurrentBias(): boolean {
    return false;
  }

  cell(gx: Tensor, gh: Tensor | null): CellStep {
    const h = tanh(gh ? add(gx, gh) : gx);
    return { h, cache: h };
  }

  /** Both projections meet in one pre-activation, so they share its gradient. */
  cellBackward(dh: Tensor, cache: Cache): CellGrads {
    const da = unaryGrad('tanh', dh, cache as Tensor);
    return { dgx: da, dgh: da, dhDirect: null };
  }
}
