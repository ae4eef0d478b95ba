import type { Tensor } from '../../core/tensor.js';
import { transpose } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt, sizeOf } from '../../core/shape.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type ReshapeSpec = Extract<LayerSpec, { type: 'reshape' }>;
type TransposeSpec = Extract<LayerSpec, { type: 'transpose' }>;

/** The per-sample shape becomes `shape`, a view (no copy); the batch stays. */
export class Reshape extends BaseLayer<ReshapeSpec> {
  constructor(spec: ReshapeSpec, inputShape: readonly number[]) {
    super(spec, inputShape);
    const shape = spec.shape;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d > 0) ||
      sizeOf(shape) !== sizeOf(inputShape)
    )
      fail(
        'SPEC_INVALID',
        `reshape to ${JSON.stringify(shape)} does not fit per-sample shape ${fmt(inputShape)}`,
        `give positive dimensions whose product is ${sizeOf(inputShape)}`,
      );
    this.outputShape = [...shape];
  }

  forward(x: Tensor) {
    return { y: x.reshape([x.shape[0], ...this.outputShape]), cache: null };
  }

  backward(dy: Tensor, _cache: Cache): Gradients {
    return { dx: dy.reshape([dy.shape[0], ...this.inputShape]), grads: {} };
  }
}

/** Permutes the per-sample axes (perm counts them from 0); the batch stays first. */
export class Transpose extends BaseLayer<TransposeSpec> {
  /** The permutation of the batched tensor's axes, and its inverse. */
  private readonly perm: number[];
  private readonly inverse: number[];

  constructor(spec: TransposeSpec, inputShape: readonly number[]) {
    super(spec, inputShape);
    const r = inputShape.length,
      perm = spec.perm;
    if (!Array.isArray(perm) || perm.length !== r || [...perm].sort((a, b) => a - b).some((v, i) => v !== i))
      fail(
        'SPEC_INVALID',
        `transpose perm ${JSON.stringify(perm)} is not a permutation of the ${r} per-sample axes of ${fmt(inputShape)}`,
        `list each axis 0..${r - 1} once`,
      );
    this.perm = [0, ...perm.map((p) => p + 1)];
    this.inverse = this.perm.map((_, i) => this.perm.indexOf(i));
    this.outputShape = perm.map((p) => inputShape[p]);
  }

  forward(x: Tensor) {
    return { y: transpose(x, this.perm), cache: null };
  }

  backward(dy: Tensor, _cache: Cache): Gradients {
    return { dx: transpose(dy, this.inverse), grads: {} };
  }
}
