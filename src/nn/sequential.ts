import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { fail } from '../core/errors.js';
import { fmt, sameShape } from '../core/shape.js';
import { tidy } from '../core/scope.js';
import { assign, tensor } from '../ops/index.js';
import type { BuildContext, Cache, ForwardContext, Gradients, Layer, LayerSpec } from './layer.js';
import { buildLayer } from './build.js';

/** A model as data: the per-sample input shape and the layers in order. */
export interface ModelSpec {
  input: number[];
  layers: LayerSpec[];
}

/** Layers in a row. Parameter names are `<index>.<name>`, e.g. `0.weight`, `3.1.bias` inside branches. */
export class Sequential {
  readonly spec: ModelSpec;
  readonly layers: Layer[] = [];
  readonly outputShape: readonly number[];
  readonly backend: Backend;

  constructor(spec: ModelSpec, ctx: BuildContext) {
    this.spec = structuredClone(spec);
    this.backend = ctx.backend;
    let shape: readonly number[] = spec.input;
    spec.layers.forEach((ls, i) => {
      try {
        const layer = buildLayer(ls, shape, ctx);
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

  /** Overwrite parameters in place from plain arrays keyed like `namedParams` (weights from a file or another thread). */
  setParams(values: Record<string, ArrayLike<number>>): void {
    const named = this.namedParams();
    for (const [name, v] of Object.entries(values)) {
      const p = named.get(name);
      if (!p) fail('SPEC_INVALID', `the model has no parameter '${name}'`, `known parameters: ${[...named.keys()].join(', ')}`);
      if (v.length !== p.size) {
        fail('SHAPE_MISMATCH', `parameter '${name}' has ${p.size} elements ${fmt(p.shape)} but ${v.length} values were given`, 'load weights saved from a model with the same spec');
      }
      tidy(() => assign(p, tensor(Float32Array.from(v), p.shape, 'float32', p.backend)));
    }
  }

  private collect(of: (l: Layer) => Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.layers.forEach((l, i) => { for (const [k, t] of of(l)) out.set(`${i}.${k}`, t); });
    return out;
  }

  private checkInput(x: Tensor): void {
    const per = x.shape.slice(1);
    if (x.rank === 0 || !sameShape(per, this.spec.input)) {
      fail('SHAPE_MISMATCH', `input shape ${fmt(x.shape)} does not match model input [N,${this.spec.input.join(',')}]`,
        `pass a batch of shape [N, ${this.spec.input.join(', ')}]`);
    }
    if (x.dtype === 'float32' && !x.backend.asyncOnly) {
      const d = x.dataSync();
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) fail('NON_FINITE', `input holds ${d[i]} at flat index ${i}`, 'clean or impute the input before running the model');
      }
    }
  }

  /** Inference: returns the output; every intermediate is freed. */
  predict(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => this.forwardWithCache(x, { training: false }).y);
  }

  /**
   * Forward through layers [from, to) keeping each layer's cache for `backwardWithCache`; call both inside
   * one tidy. The whole model by default.
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

  forward(x: Tensor, ctx: ForwardContext): { y: Tensor; caches: Cache[] } {
    this.checkInput(x);
    return this.forwardWithCache(x, ctx);
  }

  /**
   * The VJP through layers [from, to) from their output gradient; gradients keyed like namedParams.
   * `wantDx: false` skips the gradient to the range's input (local learning rules do not need it).
   */
  backwardWithCache(dy: Tensor, caches: Cache[], from = 0, to = this.layers.length, wantDx = true): Gradients {
    const grads: Record<string, Tensor> = {};
    let g: Tensor | null = dy;
    for (let i = to - 1; i >= from; i--) {
      if (!g) fail('INVALID_ARGUMENT', `layer ${i} needs a gradient but the layer after it has no input gradient`, 'only the first layer may take integer inputs');
      const r = this.layers[i].backward(g, caches[i - from], wantDx || i > from);
      for (const [k, t] of Object.entries(r.grads)) grads[`${i}.${k}`] = t;
      g = r.dx;
    }
    return { dx: g, grads };
  }
}
