import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../core/tensor.js';
import type { Sequential } from '../nn/sequential.js';
import type { Cache } from '../nn/layer.js';
import { dispose, tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { add, concat, copy, div, maxPool2dGrad, mul, relu, slice, sub, tensor, zeros } from '../ops/index.js';
import { Pool2d } from '../nn/layers/pool.js';
import { traceBackward, traceForward, type LayerRule, type Trace } from './trace.js';

/**
 * How gradients pass activations: plainly, or guided backprop's positive-only rule at ReLUs ('guided', Captum's
 * convention) or at every activation ('guided-all': tanh, sigmoid and GELU too).
 */
export type GradientRule = 'gradient' | 'guided' | 'guided-all';

/**
 * A model as the attribution methods see it: class scores for a batch of inputs, and — for a network of
 * layers — gradients of a class score to the input (or to a layer's activations), DeepLIFT's multipliers,
 * and weight re-initialisation for the randomisation check. Everything crosses as plain Float32Arrays of
 * whole batches, so the methods work the same on any backend (WebGPU reads back asynchronously).
 */
export interface Explainable {
  /** One sample's shape, e.g. [1, 28, 28]. */
  readonly inputShape: readonly number[];
  readonly classes: number;
  /** Class scores (logits) [B, classes] for B inputs laid out one after the other. */
  scores(x: Float32Array, batch: number): Promise<Float32Array>;
  /** d score[b, targets[b]] / d x for each sample b. Absent for a model known only by its predictions. */
  gradients?(x: Float32Array, batch: number, targets: Int32Array, rule?: GradientRule): Promise<Float32Array>;
  /**
   * DeepLIFT (rescale rule): per sample, multipliers × (x − baseline), so they sum to the score difference on
   * piecewise-linear paths.
   */
  deeplift?(x: Float32Array, baseline: Float32Array, batch: number, targets: Int32Array): Promise<Float32Array>;
  /**
   * Activations of layer `layer`'s output and the target score's gradient there, [B, ...shape]; a target of −1
   * is the predicted class, picked from the same forward pass (the targets used come back).
   */
  layerGradients?(
    x: Float32Array,
    batch: number,
    targets: Int32Array,
    layer: number,
  ): Promise<{ act: Float32Array; grad: Float32Array; shape: number[]; targets: Int32Array }>;
  /**
   * The target score's gradient to layer `layer`'s output, and the class scores, when the layers after it are fed
   * `act` [B, ...that layer's output shape] instead of what the layers before it make (layer IG's path points).
   */
  layerHeadGradients?(
    act: Float32Array,
    batch: number,
    targets: Int32Array,
    layer: number,
  ): Promise<{ grad: Float32Array; scores: Float32Array }>;
  /** Unit `neuron` (a flat index into layer `layer`'s output) per sample: its value and its gradient to the input. */
  neuronGradients?(
    x: Float32Array,
    batch: number,
    layer: number,
    neuron: number,
  ): Promise<{ value: Float32Array; grad: Float32Array }>;
  /** Indices of layers whose output is a feature map [C, H, W] (Grad-CAM's candidates), first to last. */
  readonly mapLayers?: number[];
  /** Each layer's output shape for one sample, where the model is a list of layers. */
  readonly layerShapes?: readonly (readonly number[])[];
  /** Each layer's name (see `layerNames`), where the model is a list of layers. */
  readonly layerNames?: readonly string[];
}

/**
 * The layers' names: the spec's `name` where given, else the type, counted as Keras counts: `conv2d`, `conv2d_1`,
 * `conv2d_2`, … (a count a given name already holds is skipped). Two layers given the same name are a SPEC_INVALID.
 */
export function layerNames(specs: readonly { type: string; name?: string }[]): string[] {
  const given = new Set<string>();
  for (const [i, l] of specs.entries())
    if (l.name !== undefined) {
      if (given.has(l.name))
        fail(
          'SPEC_INVALID',
          `layers ${i} and ${specs.findIndex((o) => o.name === l.name)} are both named '${l.name}'`,
          'give each layer its own name',
        );
      given.add(l.name);
    }
  const seen = new Map<string, number>();
  return specs.map((l) => {
    if (l.name !== undefined) return l.name;
    const nameAt = (k: number) => (k === 0 ? l.type : `${l.type}_${k}`);
    let k = seen.get(l.type) ?? 0;
    while (given.has(nameAt(k))) k++;
    seen.set(l.type, k + 1);
    return nameAt(k);
  });
}

/** Elementwise activations: each layer's own VJP is dy·f′(x), which the rules below reuse. */
const activations = new Set(['relu', 'sigmoid', 'tanh', 'gelu', 'hardswish', 'clip', 'leakyrelu', 'hardsigmoid']);

/** The Explainable of a Sequential network on its own backend (eval mode: batch norm uses running statistics). */
export function fromSequential(model: Sequential): Explainable {
  const backend = model.backend;
  const inputShape = model.spec.input;
  const classes = model.outputShape[0];
  const input = (x: Float32Array, batch: number) => tensor(x, [batch, ...inputShape], 'float32', backend);
  const onehot = (targets: Int32Array) => {
    const v = new Float32Array(targets.length * classes);
    targets.forEach((t, b) => {
      v[b * classes + t] = 1;
    });
    return tensor(v, [targets.length, classes], 'float32', backend);
  };
  const check = (targets: Int32Array) => {
    for (const t of targets)
      if (!(Number.isInteger(t) && t >= 0 && t < classes))
        fail('INVALID_ARGUMENT', `target class ${t} is outside [0, ${classes})`, `pass a class index below ${classes}`);
  };
  /** Forward keeping every layer's input, output and cache, inside branches too (the caller's tidy frees them). */
  const forward = (x: Tensor, upTo = model.layers.length) => traceForward(model.layers, x, upTo);
  /** Backward from `g` at the output of layer `to − 1` down to the input, with a rule for activations. */
  const backward = (g: Tensor, f: Trace, to: number, act: LayerRule) => traceBackward(model.layers, f, g, act, to);
  const read = async (t: Tensor) => {
    const v = Float32Array.from((await t.data()) as Float32Array);
    t.dispose();
    return v;
  };
  const mapLayers = model.layers.map((l, i) => (l.outputShape.length === 3 ? i : -1)).filter((i) => i >= 0);
  const names = layerNames(model.layers.map((l) => l.spec));

  const layerSize = (layer: number) => model.layers[layer].outputShape.reduce((p, d) => p * d, 1);
  const checkLayer = (layer: number) => {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < model.layers.length))
      fail(
        'INVALID_ARGUMENT',
        `layer ${layer} does not exist (the model has ${model.layers.length})`,
        `use one of: ${names.map((n, i) => `${n} (${i})`).join(', ')}`,
      );
  };

  return {
    inputShape,
    classes,
    mapLayers,
    layerNames: names,
    layerShapes: model.layers.map((l) => [...l.outputShape]),
    async layerHeadGradients(act, batch, targets, layer) {
      checkLayer(layer);
      check(targets);
      const shape = model.layers[layer].outputShape;
      const [grad, y] = tidy(() => {
        // forward from the layer after `layer`, fed `act`, then back to that layer's output
        const a = tensor(act, [batch, ...shape], 'float32', backend);
        const caches: Cache[] = [];
        let h = a;
        for (let i = layer + 1; i < model.layers.length; i++) {
          const r = model.layers[i].forward(h, { training: false });
          caches.push(r.cache);
          h = r.y;
        }
        let d = onehot(targets);
        for (let i = model.layers.length - 1; i > layer; i--)
          d = model.layers[i].backward(d, caches[i - layer - 1], true, false).dx!;
        return [copy(d), copy(h)];
      });
      return { grad: await read(grad), scores: await read(y) };
    },
    async neuronGradients(x, batch, layer, neuron) {
      checkLayer(layer);
      const size = layerSize(layer);
      if (!(Number.isInteger(neuron) && neuron >= 0 && neuron < size))
        fail(
          'INVALID_ARGUMENT',
          `neuron ${neuron} is outside layer ${names[layer]}'s ${size} units`,
          `pass a flat index below ${size}`,
        );
      const [value, grad] = tidy(() => {
        const f = forward(input(x, batch), layer + 1);
        const pick = new Float32Array(batch * size);
        for (let b = 0; b < batch; b++) pick[b * size + neuron] = 1;
        const g = backward(
          tensor(pick, [batch, ...model.layers[layer].outputShape], 'float32', backend),
          f,
          layer + 1,
          () => null,
        );
        return [copy(f.y), g];
      });
      const all = await read(value);
      return { value: Float32Array.from({ length: batch }, (_, b) => all[b * size + neuron]), grad: await read(grad) };
    },
    async scores(x, batch) {
      return read(tidy(() => model.predict(input(x, batch))));
    },
    async gradients(x, batch, targets, rule = 'gradient') {
      check(targets);
      return read(
        tidy(() => {
          const f = forward(input(x, batch));
          return backward(onehot(targets), f, model.layers.length, (layer, t, i, dy) => {
            const guided =
              rule === 'guided-all'
                ? activations.has(layer.spec.type)
                : rule === 'guided' && layer.spec.type === 'relu';
            if (!guided) return null;
            // guided backprop: only positive gradients pass an activation, times its local slope
            return layer.backward(relu(dy), t.caches[i]!, true, false).dx;
          });
        }),
      );
    },
    async deeplift(x, baseline, batch, targets) {
      check(targets);
      return read(
        tidy(() => {
          // one forward over [x; x′]; an activation passes the multiplier Δy/Δx (the rescale rule, blended into its
          // slope where Δx → 0), linear layers their VJP; the baseline half carries no gradient
          const xs = input(x, batch),
            bs = input(baseline, batch);
          const f = forward(concat([xs, bs], 0));
          const g0 = concat([onehot(targets), zeros([batch, classes], 'float32', backend)], 0);
          const tiny = 1e-12;
          /** Δy/Δx where Δx is not ~0, else `near` (the local gradient): (Δy·Δx + near·tiny) / (Δx² + tiny). */
          const ratio = (dyv: Tensor, dx: Tensor, near: Tensor) =>
            div(add(mul(dyv, dx), mul(near, tiny)), add(mul(dx, dx), tiny));
          const m = backward(g0, f, model.layers.length, (layer, t, i, dy) => {
            const top = (t: Tensor) => slice(t, 0, 0, batch),
              bottom = (t: Tensor) => slice(t, 0, batch, batch);
            const lower = (t: Tensor) => concat([t, zeros(t.shape, 'float32', backend)], 0);
            if (layer instanceof Pool2d && layer.spec.type === 'maxpool2d') {
              // Captum's max-pool rule: with y, y′ the window's maxima and m = max(y, y′), m − y′ ≥ 0 goes to x's
              // maximum and y − m ≤ 0 to x′'s, each as a multiplier (its share)/Δx there. The shares sum to Δy, and a
              // share is 0 wherever Δx = 0 (there x = x′ and the other maximum wins), so no window loses mass; sending
              // all of Δy to x's maximum lost it where that position had Δx = 0 (a ReLU at 0 on both sides)
              const xt = top(t.ins[i]),
                xb = bottom(t.ins[i]),
                g = top(dy);
              const y = top(t.outs[i]),
                yb = bottom(t.outs[i]);
              const routed = add(
                maxPool2dGrad(mul(g, relu(sub(y, yb))), xt, layer.opts),
                maxPool2dGrad(mul(g, mul(relu(sub(yb, y)), -1)), xb, layer.opts),
              );
              return lower(ratio(routed, sub(xt, xb), maxPool2dGrad(g, xt, layer.opts)));
            }
            if (!activations.has(layer.spec.type)) return null;
            const dx = sub(top(t.ins[i]), bottom(t.ins[i])),
              dyv = sub(top(t.outs[i]), bottom(t.outs[i]));
            const ones = add(zeros(t.outs[i].shape, 'float32', backend), 1);
            const slope = top(layer.backward(ones, t.caches[i]!, true, false).dx!);
            return lower(mul(top(dy), ratio(dyv, dx, slope)));
          });
          return mul(slice(m, 0, 0, batch), sub(xs, bs));
        }),
      );
    },
    async layerGradients(x, batch, targets, layer) {
      if (!(Number.isInteger(layer) && layer >= 0 && layer < model.layers.length))
        fail(
          'INVALID_ARGUMENT',
          `layer ${layer} does not exist (the model has ${model.layers.length})`,
          `layers with feature maps: ${mapLayers.map((i) => `${names[i]} (${i})`).join(', ') || 'none'}`,
        );
      const shape = [...model.layers[layer].outputShape];
      const f = tidy(() => forward(input(x, batch)));
      try {
        if (targets.some((t) => t === -1)) {
          const logits = await f.y.data();
          targets = targets.map((t, b) => {
            if (t !== -1) return t;
            let best = 0;
            for (let k = 1; k < classes; k++) if (logits[b * classes + k] > logits[b * classes + best]) best = k;
            return best;
          });
        }
        check(targets);
        const [act, grad] = tidy(() => {
          const d = traceBackward(model.layers, f, onehot(targets), () => null, model.layers.length, layer + 1);
          return [copy(f.outs[layer]), d];
        });
        return { act: await read(act), grad: await read(grad), shape, targets };
      } finally {
        dispose(f);
      }
    },
  };
}

/** A model known only by its class scores (an ONNX session, a NoProp rule): the perturbation methods work on it. */
export function fromScores(
  inputShape: readonly number[],
  classes: number,
  scores: (x: Float32Array, batch: number) => Promise<Float32Array>,
): Explainable {
  return { inputShape, classes, scores };
}

/** A learning rule as an Explainable: its network when it has one (backprop, tpsgd), else its predictions (NoProp). */
export function fromRule(
  rule: { predict(x: Tensor): Tensor; backend: Backend; model?: unknown },
  inputShape: readonly number[],
  classes: number,
): Explainable {
  if (rule.model instanceof Object && 'layers' in (rule.model as object) && 'namedParams' in (rule.model as object))
    return fromSequential(rule.model as Sequential);
  return fromScores(inputShape, classes, async (x, batch) => {
    const y = tidy(() => rule.predict(tensor(x, [batch, ...inputShape], 'float32', rule.backend)));
    const v = Float32Array.from((await y.data()) as Float32Array);
    y.dispose();
    return v;
  });
}
