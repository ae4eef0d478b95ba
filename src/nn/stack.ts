import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import type { BuildContext, Cache, ForwardContext, Gradients, Layer, LayerSpec } from './layer.js';

/**
 * Builds one layer from its spec. The builder table (build.ts) passes itself to layers that hold layers
 * (branches), so that they need not import it: build.ts imports every layer, and that would be a circle.
 */
export type LayerBuilder = (spec: LayerSpec, inputShape: readonly number[], ctx: BuildContext) => Layer;

/**
 * Layers in a row: a Sequential model, or one branch of a Branches layer. Parameter names are
 * `<index>.<name>`, e.g. `0.weight`, `3.1.bias` inside branches.
 */
export class LayerStack {
  readonly layers: Layer[] = [];
  readonly outputShape: readonly number[];

  constructor(input: readonly number[], specs: readonly LayerSpec[], ctx: BuildContext, build: LayerBuilder) {
    let shape = input;
    specs.forEach((ls, i) => {
      try {
        const layer = build(ls, shape, ctx);
        this.layers.push(layer);
        shape = layer.outputShape;
      } catch (e) {
        if (e instanceof Error) e.message = `layer ${i} (${ls.type}): ${e.message}`;
        throw e;
      }
    });
    this.outputShape = shape;
  }

  namedParams(): Map<string, Tensor> {
    return this.collect((l) => l.params);
  }

  namedBuffers(): Map<string, Tensor> {
    return this.collect((l) => l.buffers);
  }

  private collect(of: (l: Layer) => Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.layers.forEach((l, i) => {
      for (const [k, t] of of(l)) out.set(`${i}.${k}`, t);
    });
    return out;
  }

  /**
   * Forward through layers [from, to) keeping each layer's cache for `backwardWithCache`; call both inside
   * one tidy. The whole stack by default.
   */
  forwardWithCache(x: Tensor, ctx: ForwardContext, from = 0, to = this.layers.length): { y: Tensor; caches: Cache[] } {
    const caches: Cache[] = [];
    let y = x;
    for (let i = from; i < to; i++) {
      const r = this.layers[i].forward(y, ctx);
      caches.push(r.cache);
      y = r.y;
    }
    return { y: y === x ? x.reshape(x.shape) : y, caches };
  }

  /**
   * The VJP through layers [from, to) from their output gradient; gradients keyed like namedParams.
   * `wantDx: false` skips the gradient to the range's input (local learning rules do not need it).
   */
  backwardWithCache(dy: Tensor, caches: Cache[], from = 0, to = this.layers.length, wantDx = true): Gradients {
    const grads: Record<string, Tensor> = {};
    let g: Tensor | null = dy;
    for (let i = to - 1; i >= from; i--) {
      if (!g)
        fail(
          'INVALID_ARGUMENT',
          `layer ${i} needs a gradient but the layer after it has no input gradient`,
          'only the first layer may take integer inputs',
        );
      const r = this.layers[i].backward(g, caches[i - from], wantDx || i > from);
      for (const [k, t] of Object.entries(r.grads)) grads[`${i}.${k}`] = t;
      g = r.dx;
    }
    return { dx: g, grads };
  }
}
