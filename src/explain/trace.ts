import type { Tensor } from '../core/tensor.js';
import type { Cache, Layer } from '../nn/layer.js';
import { Branches } from '../nn/layers/branches.js';
import { add } from '../ops/index.js';

/**
 * One inference pass through layers in a row, keeping each layer's input, output and cache — and, for a branches
 * layer that merges by add or concat, the same for the layers of each branch, so that attribution rules reach the
 * activations inside residual blocks. (A merge by mul is not linear: its layer is kept whole, and its VJP used.)
 */
export interface Trace {
  ins: Tensor[];
  outs: Tensor[];
  caches: (Cache | null)[];
  /** Per layer: the traces of its branches, or null for a layer run whole. */
  branches: (Trace[] | null)[];
  y: Tensor;
}

/** A rule's own VJP for a layer in `t` at index `i` (null: the layer's VJP). */
export type LayerRule = (layer: Layer, t: Trace, i: number, dy: Tensor) => Tensor | null;

const linearMerge = (l: Layer): l is Branches => l instanceof Branches && l.spec.merge !== 'mul';

/** Layers [0, upTo) of `layers` in inference mode from `x` (run inside a tidy: the caller frees the tensors). */
export function traceForward(layers: readonly Layer[], x: Tensor, upTo = layers.length): Trace {
  const t: Trace = { ins: [], outs: [], caches: [], branches: [], y: x };
  let h = x;
  for (let i = 0; i < upTo; i++) {
    const layer = layers[i];
    t.ins.push(h);
    if (linearMerge(layer)) {
      const subs = layer.branches.map((b) => traceForward(b.layers, h));
      h = layer.merge(subs.map((s) => s.y));
      t.caches.push(null);
      t.branches.push(subs);
    } else {
      const r = layer.forward(h, { training: false });
      h = r.y;
      t.caches.push(r.cache);
      t.branches.push(null);
    }
    t.outs.push(h);
  }
  t.y = h;
  return t;
}

/**
 * The VJP from `g` at the output of layer `to − 1` back to the input of layer `from`, `rule` deciding per layer (inside
 * branches too): each branch gets its share of `g` as the layer's own VJP gives it (`branchGradient`: all of it for
 * add, summed over the axes it broadcast; its slice for concat); the branches' input gradients add up.
 */
export function traceBackward(
  layers: readonly Layer[],
  t: Trace,
  g: Tensor,
  rule: LayerRule,
  to = layers.length,
  from = 0,
): Tensor {
  for (let i = to - 1; i >= from; i--) {
    const layer = layers[i];
    const subs = t.branches[i];
    if (subs && linearMerge(layer)) {
      let dx: Tensor | null = null;
      for (const [k, b] of layer.branches.entries()) {
        const d = traceBackward(b.layers, subs[k], layer.branchGradient(g, k), rule);
        dx = dx ? add(dx, d) : d;
      }
      g = dx!;
      continue;
    }
    g = rule(layer, t, i, g) ?? layer.backward(g, t.caches[i]!, true, false).dx!;
  }
  return g;
}
