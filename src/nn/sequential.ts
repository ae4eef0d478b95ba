import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { numericsChecked } from '../backend/engine.js';
import { fail } from '../core/errors.js';
import { fmt, sameShape } from '../core/shape.js';
import { tidy } from '../core/scope.js';
import { assign, tensor } from '../ops/index.js';
import type { BuildContext, Cache, ForwardContext, LayerSpec } from './layer.js';
import { buildLayer } from './build.js';
import { LayerStack } from './stack.js';

/** A model as data: the per-sample input shape and the layers in order. */
export interface ModelSpec {
  input: number[];
  layers: LayerSpec[];
}

/** A model: its layers in a row (see LayerStack for parameter names), with the input checked on the way in. */
export class Sequential extends LayerStack {
  readonly spec: ModelSpec;
  readonly backend: Backend;
  /** Whether a batch has passed the NaN/±Inf scan (see `checkInput`). */
  private inputScanned = false;

  constructor(spec: ModelSpec, ctx: BuildContext) {
    super(spec.input, spec.layers, ctx, buildLayer);
    this.spec = structuredClone(spec);
    this.backend = ctx.backend;
  }

  /**
   * Overwrite parameters in place from plain arrays keyed like `namedParams` (weights from a file or another thread).
   */
  setParams(values: Record<string, ArrayLike<number>>): void {
    const named = this.namedParams();
    for (const [name, v] of Object.entries(values)) {
      const p = named.get(name);
      if (!p)
        fail(
          'SPEC_INVALID',
          `the model has no parameter '${name}'`,
          `known parameters: ${[...named.keys()].join(', ')}`,
        );
      if (v.length !== p.size) {
        fail(
          'SHAPE_MISMATCH',
          `parameter '${name}' has ${p.size} elements ${fmt(p.shape)} but ${v.length} values were given`,
          'load weights saved from a model with the same spec',
        );
      }
      tidy(() => assign(p, tensor(Float32Array.from(v), p.shape, 'float32', p.backend)));
    }
  }

  /**
   * The input's shape, always; its values (NaN, ±Inf) until one batch has passed, and on every batch while
   * `setCheckNumerics(true)` is in force. Scanning reads the whole input back (`dataSync`: a copy out of the wasm
   * heap), which a model that predicts one drawing at a time would pay on every call; bad data usually comes from the
   * start (a wrong loader, unimputed features).
   */
  private checkInput(x: Tensor): void {
    const per = x.shape.slice(1);
    if (x.rank === 0 || !sameShape(per, this.spec.input)) {
      fail(
        'SHAPE_MISMATCH',
        `input shape ${fmt(x.shape)} does not match model input [N,${this.spec.input.join(',')}]`,
        `pass a batch of shape [N, ${this.spec.input.join(', ')}]`,
      );
    }
    if (x.dtype === 'float32' && !x.backend.asyncOnly && (!this.inputScanned || numericsChecked())) {
      const d = x.dataSync();
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i]))
          fail(
            'NON_FINITE',
            `input holds ${d[i]} at flat index ${i}`,
            'clean or impute the input before running the model',
          );
      }
      this.inputScanned = true; // only once a batch passed: after a refused batch, the next one is scanned too
    }
  }

  /** Inference: returns the output; every intermediate is freed. */
  predict(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => this.forwardWithCache(x, { training: false }).y);
  }

  forward(x: Tensor, ctx: ForwardContext): { y: Tensor; caches: Cache[] } {
    this.checkInput(x);
    return this.forwardWithCache(x, ctx);
  }
}
