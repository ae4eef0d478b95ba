import type { Tensor } from '../../core/tensor.js';
import { add, conv2d, conv2dBackpropFilter, conv2dBackpropInput, randomNormal, sum, zeros } from '../../ops/index.js';
import { convPads } from '../../ops/conv-pads.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { tidy } from '../../core/scope.js';
import { convOutHW } from '../../backend/shapes.js';
import type { BuildContext, Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type ConvSpec = Extract<LayerSpec, { type: 'conv2d' }>;
const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

/** NCHW convolution with weight [filters, C / groups, kh, kw] and a per-channel bias (grouped, dilated). */
export class Conv2d extends BaseLayer<ConvSpec> {
  private opts: {
    stride: [number, number];
    pad: [number, number, number, number];
    dilation: [number, number];
    groups: number;
  };

  constructor(spec: ConvSpec, inputShape: readonly number[], { backend, rng }: BuildContext) {
    super(spec, inputShape);
    if (inputShape.length !== 3) {
      fail(
        'SPEC_INVALID',
        `conv2d needs per-sample input [C, H, W] but gets ${fmt(inputShape)}`,
        'reshape images to channels-first',
      );
    }
    const [C, H, W] = inputShape,
      [kh, kw] = pair(spec.kernel, 1);
    const groups = spec.groups ?? 1;
    const [pad, padEnd] = convPads('conv2d', spec.pad);
    this.opts = { stride: pair(spec.stride, 1), pad: [...pad, ...padEnd], dilation: pair(spec.dilation, 1), groups };
    if (!(Number.isInteger(groups) && groups >= 1 && C % groups === 0 && spec.filters % groups === 0))
      fail(
        'SPEC_INVALID',
        `conv2d groups ${groups} does not divide its ${C} input channels and ${spec.filters} filters`,
        'use a number of groups that divides both (the channel count for a depthwise convolution)',
      );
    const [dh, dw] = pair(spec.dilation, 1);
    if (![dh, dw].every((d) => Number.isInteger(d) && d >= 1))
      fail('SPEC_INVALID', `conv2d dilation ${JSON.stringify(spec.dilation)} is invalid`, 'use an integer ≥ 1');
    const [oh, ow] = convOutHW(H, W, kh, kw, { ...this.opts, pad, padEnd });
    if (oh < 1 || ow < 1)
      fail(
        'SPEC_INVALID',
        `conv2d kernel ${kh}×${kw} (dilation ${dh}×${dw}) does not fit input ${fmt(inputShape)}`,
        'use more padding or a smaller kernel',
      );
    this.outputShape = [spec.filters, oh, ow];
    const Cg = C / groups;
    this.params.set('weight', randomNormal([spec.filters, Cg, kh, kw], rng, 0, Math.sqrt(2 / (Cg * kh * kw)), backend));
    if (spec.bias !== false) this.params.set('bias', zeros([spec.filters], 'float32', backend));
  }

  forward(x: Tensor) {
    const y = tidy(() => {
      const c = conv2d(x, this.param('weight'), this.opts);
      const bias = this.params.get('bias');
      return bias ? add(c, bias.reshape([1, -1, 1, 1])) : c;
    });
    return { y, cache: x };
  }

  backward(dy: Tensor, cache: Cache, wantDx = true, wantGrads = true): Gradients {
    const x = cache as Tensor,
      w = this.param('weight');
    const grads: Record<string, Tensor> = {};
    if (wantGrads) {
      grads.weight = conv2dBackpropFilter(x, dy, w.shape, this.opts);
      if (this.params.has('bias')) grads.bias = sum(dy, [0, 2, 3]);
    }
    return { dx: wantDx ? conv2dBackpropInput(dy, w, x.shape, this.opts) : null, grads };
  }
}
