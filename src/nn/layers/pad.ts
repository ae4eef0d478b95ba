import type { Tensor } from '../../core/tensor.js';
import { concat, fill, slice } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { tidy } from '../../core/scope.js';
import type { Cache, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';

type PadSpec = Extract<LayerSpec, { type: 'pad' }>;

/**
 * Constant padding of the per-sample dimensions (ONNX Pad, mode constant): each padded axis is a concat of filled
 * blocks around the input; the gradient slices the input's part back out.
 */
export class Pad extends BaseLayer<PadSpec> {
  private readonly begin: number[];
  private readonly end: number[];

  constructor(spec: PadSpec, inputShape: readonly number[]) {
    super(spec, inputShape);
    const r = inputShape.length,
      pads = spec.pads;
    if (!Array.isArray(pads) || pads.length !== 2 * r || !pads.every((p) => Number.isInteger(p) && p >= 0))
      fail(
        'SPEC_INVALID',
        `pad ${JSON.stringify(pads)} does not pad per-sample shape ${fmt(inputShape)}`,
        `give ${2 * r} integers ≥ 0: the ${r} begin pads, then the ${r} end pads`,
      );
    if (spec.value !== undefined && !Number.isFinite(spec.value))
      fail('SPEC_INVALID', `pad value ${spec.value} is not a finite number`, 'pad with a finite value');
    this.begin = pads.slice(0, r);
    this.end = pads.slice(r);
    this.outputShape = inputShape.map((d, i) => d + this.begin[i] + this.end[i]);
  }

  forward(x: Tensor) {
    const value = this.spec.value ?? 0;
    const y = tidy(() => {
      let y = x;
      for (let a = 1; a < x.rank; a++) {
        const b = this.begin[a - 1],
          e = this.end[a - 1];
        if (b === 0 && e === 0) continue;
        const block = (n: number) =>
          fill(
            y.shape.map((d, k) => (k === a ? n : d)),
            value,
            'float32',
            x.backend,
          );
        y = concat([...(b ? [block(b)] : []), y, ...(e ? [block(e)] : [])], a);
      }
      return y === x ? x.reshape(x.shape) : y;
    });
    return { y, cache: null };
  }

  backward(dy: Tensor, _cache: Cache): Gradients {
    const dx = tidy(() => {
      let g = dy;
      for (let a = 1; a < dy.rank; a++)
        if (this.begin[a - 1] || this.end[a - 1]) g = slice(g, a, this.begin[a - 1], this.inputShape[a - 1]);
      return g === dy ? dy.reshape(dy.shape) : g;
    });
    return { dx, grads: {} };
  }
}
