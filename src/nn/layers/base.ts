import type { Tensor } from '../../core/tensor.js';
import type { Cache, ForwardContext, Gradients, Layer, LayerSpec } from '../layer.js';

/** Shared bookkeeping; subclasses define forward and backward. */
export abstract class BaseLayer<S extends LayerSpec = LayerSpec> implements Layer {
  readonly params = new Map<string, Tensor>();
  readonly buffers = new Map<string, Tensor>();
  outputShape: readonly number[];

  constructor(
    readonly spec: S,
    readonly inputShape: readonly number[],
  ) {
    this.outputShape = inputShape;
  }

  abstract forward(x: Tensor, ctx: ForwardContext): { y: Tensor; cache: Cache };
  abstract backward(dy: Tensor, cache: Cache, wantDx?: boolean, wantGrads?: boolean): Gradients;

  protected param(name: string): Tensor {
    return this.params.get(name)!;
  }
}
