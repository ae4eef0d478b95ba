import type { Tensor } from '../../core/tensor.js';
import {
  avgPool2d,
  avgPool2dGrad,
  fill,
  maxPool2d,
  maxPool2dGrad,
  mean,
  mul,
  type Pool2DOptions,
} from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { poolOutHW } from '../../backend/shapes.js';
import { convPads } from '../../ops/conv-pads.js';
import { tidy } from '../../core/scope.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type PoolSpec = Extract<LayerSpec, { type: 'maxpool2d' | 'avgpool2d' }>;
const pair = (v: number | [number, number] | undefined, d: [number, number]): [number, number] =>
  v === undefined ? d : typeof v === 'number' ? [v, v] : v;

export class Pool2d extends BaseLayer<PoolSpec> {
  /** Window, stride and padding (DeepLIFT's max-pool rule needs them). */
  readonly opts: Pool2DOptions;

  constructor(spec: PoolSpec, inputShape: readonly number[]) {
    super(spec, inputShape);
    if (inputShape.length !== 3)
      fail(
        'SPEC_INVALID',
        `${spec.type} needs per-sample input [C, H, W] but gets ${fmt(inputShape)}`,
        'pool image-shaped activations',
      );
    const kernel = pair(spec.kernel, [1, 1]),
      stride = pair(spec.stride, kernel),
      [pad, padEnd] = convPads(spec.type, spec.pad);
    this.opts = {
      kernel,
      stride,
      pad: [...pad, ...padEnd],
      countPad: spec.type === 'avgpool2d' && spec.countPad === true,
    };
    const [C, H, W] = inputShape;
    this.outputShape = [C, ...poolOutHW(H, W, { kernel, stride, pad, padEnd, countPad: false })];
    if (this.outputShape[1] < 1 || this.outputShape[2] < 1)
      fail('SPEC_INVALID', `${spec.type} window ${kernel} does not fit ${fmt(inputShape)}`, 'use a smaller window');
  }

  forward(x: Tensor) {
    return { y: this.spec.type === 'maxpool2d' ? maxPool2d(x, this.opts) : avgPool2d(x, this.opts), cache: x };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    const x = cache as Tensor;
    return {
      dx: this.spec.type === 'maxpool2d' ? maxPool2dGrad(dy, x, this.opts) : avgPool2dGrad(dy, x, this.opts),
      grads: {},
    };
  }
}

type GlobalSpec = Extract<LayerSpec, { type: 'globalavgpool' }>;

/** The mean over every axis after the channel: [C, H, W] → [C, 1, 1] (ONNX GlobalAveragePool). */
export class GlobalAvgPool extends BaseLayer<GlobalSpec> {
  private readonly axes: number[];
  private readonly count: number;

  constructor(spec: GlobalSpec, inputShape: readonly number[]) {
    super(spec, inputShape);
    if (inputShape.length < 2)
      fail(
        'SPEC_INVALID',
        `globalavgpool needs per-sample input [C, H, W] (or [C, …]) but gets ${fmt(inputShape)}`,
        'pool channel-first activations',
      );
    this.axes = inputShape.slice(1).map((_, k) => k + 2);
    this.count = inputShape.slice(1).reduce((p, d) => p * d, 1);
    this.outputShape = inputShape.map((d, k) => (k === 0 ? d : 1));
  }

  forward(x: Tensor) {
    return { y: mean(x, this.axes, true), cache: null };
  }

  backward(dy: Tensor, _cache: Cache): Gradients {
    const dx = tidy(() => mul(fill([dy.shape[0], ...this.inputShape], 1 / this.count, 'float32', dy.backend), dy));
    return { dx, grads: {} };
  }
}
