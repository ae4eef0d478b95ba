import { fail } from '../core/errors.js';
import { repeatEach, type Evaluator } from './batch.js';
import { layerIndex } from './cam-methods.js';
import type { Explainable } from './model.js';
import { countOf, neuronIndex } from './options.js';
import { gaussLegendre, riemann } from './quadrature.js';
import { rowsOf, sumOf, type Job, type Raw } from './job.js';

/** The model's capability `name`, or a typed error saying the method needs a network of layers. */
function needs<K extends keyof Explainable>(model: Explainable, name: K, method: string): NonNullable<Explainable[K]> {
  return (
    model[name] ??
    fail(
      'INVALID_ARGUMENT',
      `${method} needs a network of layers`,
      'explain a Sequential model (backprop or tpsgd), or use a perturbation method',
    )
  );
}

const quadrature = (j: Job) => {
  const n = countOf(j.o);
  return (j.o.integration ?? 'gauss-legendre') === 'riemann' ? riemann(n) : gaussLegendre(n);
};

/** Each input's activations at `layer` and the targets' gradients there, with the layer's output shape. */
async function atLayer(ev: Evaluator, inputs: readonly Float32Array[], ts: readonly number[], layer: number) {
  const lg = needs(ev.model, 'layerGradients', 'layer attribution');
  let shape: number[] = [];
  const rows = await ev.chunks(inputs, async (x, n, from) => {
    const r = await lg.call(ev.model, x, n, Int32Array.from(ts.slice(from, from + n)), layer);
    shape = r.shape;
    const size = r.act.length / n;
    return Array.from({ length: n }, (_, i) => ({
      act: r.act.slice(i * size, (i + 1) * size),
      grad: r.grad.slice(i * size, (i + 1) * size),
    }));
  });
  return { rows, shape };
}

/** Captum's LayerGradientXActivation: the layer's activations times the target score's gradient there. */
export async function layerGradientXActivation(ev: Evaluator, j: Job): Promise<Raw[]> {
  const { rows, shape } = await atLayer(ev, j.xs, j.ts, layerIndex(ev.model, j.o.layer!));
  return rows.map(({ act, grad }) => ({ values: act.map((a, i) => a * grad[i]), shape }));
}

/**
 * Captum's LayerIntegratedGradients (attributions at the layer's output): with a, a′ the layer's activations of x
 * and of the baseline, (a − a′)·∫₀¹ ∇_a F(a′ + α(a − a′)) dα, the layers after it fed the path points; so
 * Σ attribution = F(x) − F(x′) up to the quadrature, and delta is the residual.
 */
export async function layerIntegratedGradients(ev: Evaluator, j: Job): Promise<Raw[]> {
  const model = ev.model;
  const head = needs(model, 'layerHeadGradients', 'layer-integrated-gradients');
  const layer = layerIndex(model, j.o.layer!);
  const { points, weights } = quadrature(j);
  const n = points.length;
  const { rows, shape } = await atLayer(ev, [...j.xs, j.base], [...j.ts, j.ts[0]], layer);
  const size = rows[0].act.length;
  const base = rows[j.xs.length].act;
  const path = j.xs.flatMap((_, k) =>
    Array.from(points, (a) => Float32Array.from(rows[k].act, (v, i) => base[i] + a * (v - base[i]))),
  );
  const targets = repeatEach(j.ts, n);
  const grads = await ev.chunks(
    path,
    async (act, b, from) => {
      const r = await head.call(model, act, b, targets.subarray(from, from + b), layer);
      return Array.from({ length: b }, (_, i) => r.grad.slice(i * size, (i + 1) * size));
    },
    size,
  );
  const ends = await ev.scores(
    j.xs.flatMap((x) => [x, j.base]),
    repeatEach(j.ts, 2),
  );
  return j.xs.map((_, k) => {
    const acc = new Float64Array(size);
    rowsOf(grads, k, n).forEach((g, s) => {
      for (let i = 0; i < size; i++) acc[i] += weights[s] * g[i];
    });
    const a = rows[k].act;
    const values = Float32Array.from(acc, (v, i) => v * (a[i] - base[i]));
    const [fx, fb] = [ends[2 * k], ends[2 * k + 1]];
    return { values, shape, delta: sumOf(values) - (fx - fb), score: fx, baselineScore: fb };
  });
}

/** The explained unit's value and input gradient at each input. */
async function atNeuron(ev: Evaluator, j: Job, inputs: readonly Float32Array[]) {
  const model = ev.model;
  const ng = needs(model, 'neuronGradients', 'neuron attribution');
  const layer = layerIndex(model, j.o.layer!);
  const neuron = neuronIndex(j.o.neuron!, model.layerShapes?.[layer] ?? []);
  const per = ev.per;
  return ev.chunks(inputs, async (x, b) => {
    const r = await ng.call(model, x, b, layer, neuron);
    return Array.from({ length: b }, (_, i) => ({ value: r.value[i], grad: r.grad.slice(i * per, (i + 1) * per) }));
  });
}

/** Captum's NeuronGradient: the unit's gradient to the input. */
export async function neuronGradient(ev: Evaluator, j: Job): Promise<Raw[]> {
  return (await atNeuron(ev, j, j.xs)).map((r) => ({ values: r.grad, target: -1 }));
}

/**
 * Captum's NeuronIntegratedGradients: IG of the unit's value instead of a class score, (x − x′)·∫₀¹ ∇u(x′ +
 * α(x − x′)) dα; delta = Σ attribution − (u(x) − u(x′)).
 */
export async function neuronIntegratedGradients(ev: Evaluator, j: Job): Promise<Raw[]> {
  const { points, weights } = quadrature(j);
  const n = points.length,
    base = j.base;
  const path = j.xs.flatMap((x) =>
    Array.from(points, (a) => Float32Array.from(x, (v, i) => base[i] + a * (v - base[i]))),
  );
  const along = await atNeuron(ev, j, path);
  const ends = await atNeuron(ev, j, [...j.xs, base]);
  const ub = ends[j.xs.length].value;
  return j.xs.map((x, k) => {
    const acc = new Float64Array(x.length);
    rowsOf(along, k, n).forEach(({ grad }, s) => {
      for (let i = 0; i < grad.length; i++) acc[i] += weights[s] * grad[i];
    });
    const values = Float32Array.from(acc, (v, i) => v * (x[i] - base[i]));
    const ux = ends[k].value;
    return { values, target: -1, delta: sumOf(values) - (ux - ub), score: ux, baselineScore: ub };
  });
}
