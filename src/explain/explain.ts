import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { Sequential } from '../nn/sequential.js';
import type { LearningRule } from '../learn/rule.js';
import { Evaluator } from './batch.js';
import { fromSequential, type Explainable } from './model.js';
import type { Attribution, BatchExplainOptions, ExplainMethod, ExplainOptions } from './types.js';
import { checkOptions } from './options.js';
import type { Job, Raw } from './job.js';
import {
  deepLift,
  gradientShap,
  guidedBackprop,
  inputXGradient,
  integratedGradients,
  saliency,
  smoothGrad,
} from './gradient-methods.js';
import { featureAblation, lime, rise } from './perturbation-methods.js';
import { occlusion } from './occlusion.js';
import { kernelShap } from './kernel-shap.js';
import { cam } from './cam-methods.js';
import {
  layerGradientXActivation,
  layerIntegratedGradients,
  neuronGradient,
  neuronIntegratedGradients,
} from './layer-methods.js';

/** What `explain` accepts as a model: an Explainable, a Sequential network, or a rule with one (backprop, tpsgd). */
export type ExplainTarget = Explainable | Sequential | LearningRule;

export function toExplainable(m: ExplainTarget): Explainable {
  if (m instanceof Sequential) return fromSequential(m);
  if ('scores' in m && 'inputShape' in m) return m;
  const seq = (m as { model?: unknown }).model;
  if (seq instanceof Sequential) return fromSequential(seq);
  return fail(
    'INVALID_ARGUMENT',
    `a ${(m as LearningRule).name ?? 'this'} model is not a stack of layers`,
    'wrap its predictions with fromScores(...) to use the perturbation methods',
  );
}

type Input = Float32Array | Tensor | ArrayLike<number>;

async function asArray(input: Input): Promise<Float32Array> {
  if (input instanceof Float32Array) return input;
  if ('storage' in (input as object) && 'backend' in (input as object))
    return Float32Array.from((await (input as Tensor).data()) as Float32Array);
  return Float32Array.from(input as ArrayLike<number>);
}

/** Methods that report the completeness residual, so score the baseline as well as the input. */
const completeness = new Set(['integrated-gradients', 'deeplift', 'layer-integrated-gradients']);
/** Neuron methods explain a unit, not a class: no target to find. */
const unitMethods = new Set(['neuron-integrated-gradients', 'neuron-gradient']);
/** CAM methods find the predicted class in their own forward pass (one clean pass, not Smooth Grad-CAM++'s noisy). */
const camMethods = new Set(['grad-cam', 'grad-cam++', 'normgrad']);

const methods: Record<ExplainMethod, (ev: Evaluator, j: Job) => Promise<Raw[]>> = {
  saliency,
  'input-x-gradient': inputXGradient,
  'guided-backprop': guidedBackprop,
  smoothgrad: (ev, j) => smoothGrad(ev, j, 'mean'),
  'smoothgrad-sq': (ev, j) => smoothGrad(ev, j, 'square'),
  vargrad: (ev, j) => smoothGrad(ev, j, 'var'),
  'integrated-gradients': integratedGradients,
  deeplift: deepLift,
  'gradient-shap': gradientShap,
  occlusion,
  'feature-ablation': featureAblation,
  'kernel-shap': kernelShap,
  lime,
  rise,
  'grad-cam': (ev, j) => cam(ev, j, 'grad-cam'),
  'grad-cam++': (ev, j) => cam(ev, j, 'grad-cam++'),
  'smooth-grad-cam++': (ev, j) => cam(ev, j, 'smooth-grad-cam++'),
  normgrad: (ev, j) => cam(ev, j, 'normgrad'),
  'layer-integrated-gradients': layerIntegratedGradients,
  'layer-gradient-x-activation': layerGradientXActivation,
  'neuron-integrated-gradients': neuronIntegratedGradients,
  'neuron-gradient': neuronGradient,
};

/** An array of inputs (not an array of numbers, which is one input). */
const isBatch = (v: Input | readonly Input[]): v is readonly Input[] =>
  Array.isArray(v) && v.length > 0 && typeof v[0] !== 'number';

/**
 * An attribution of `input` (one sample, the model's input shape) for the target class (default: the predicted
 * one) by `method`, with what it cost and, where defined, the completeness residual. Given an array of N inputs
 * (and a target per input or one for all), N attributions, each equal to the one of its input alone: the model
 * calls of all N go together (IG's N·steps path points, `batchSize` at a time).
 */
export function explain(model: ExplainTarget, input: Input, o: ExplainOptions): Promise<Attribution>;
export function explain(model: ExplainTarget, inputs: readonly Input[], o: BatchExplainOptions): Promise<Attribution[]>;
export async function explain(
  model: ExplainTarget,
  input: Input | readonly Input[],
  o: BatchExplainOptions,
): Promise<Attribution | Attribution[]> {
  const m = toExplainable(model);
  const batch = isBatch(input);
  const inputs = batch ? input : [input as Input];
  checkOptions(o, {
    inputShape: m.inputShape,
    classes: m.classes,
    batch: batch ? inputs.length : null,
    layerNames: m.layerNames,
    layerShapes: m.layerShapes,
  });
  const xs = await Promise.all(inputs.map(asArray));
  const per = m.inputShape.reduce((p, d) => p * d, 1);
  const which = (k: number) => (batch ? `input ${k}` : 'the input');
  xs.forEach((x, k) => {
    if (x.length !== per)
      fail(
        'SHAPE_MISMATCH',
        `${which(k)} has ${x.length} values but the model takes [${m.inputShape.join(', ')}] (${per})`,
        'pass one sample, flattened or with the model input shape',
      );
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i]))
        fail('NON_FINITE', `${which(k)} holds ${x[i]} at index ${i}`, 'explain a finite input');
  });
  const ev = new Evaluator(m, o.batchSize ?? 64);
  const baseline =
    typeof o.baseline === 'number' || o.baseline === undefined
      ? new Float32Array(per).fill(o.baseline ?? 0)
      : o.baseline;
  let ts: number[];
  if (unitMethods.has(o.method)) ts = xs.map(() => -1);
  else if (o.target !== undefined) ts = typeof o.target === 'number' ? xs.map(() => o.target as number) : [...o.target];
  else if (camMethods.has(o.method)) ts = xs.map(() => -1);
  else {
    // IG and DeepLIFT need F(x′) too: score it in the same call (the Evaluator remembers the rows)
    const rows = await ev.allScores(completeness.has(o.method) ? [...xs, baseline] : xs);
    ts = xs.map((_, k) => {
      const scores = rows[k];
      if (scores.some((v) => !Number.isFinite(v)))
        fail(
          'NON_FINITE',
          `the model's class scores for ${which(k)} are not finite (${[...scores].join(', ')})`,
          'check the model: its weights may have diverged',
        );
      return scores.indexOf(Math.max(...scores));
    });
  }
  const refs = o.background?.length ? o.background : [baseline];
  const raws = await methods[o.method](ev, { xs, ts, base: baseline, refs, o });
  const out = raws.map(
    (raw, k): Attribution => ({
      method: o.method,
      shape: [...m.inputShape],
      modelCalls: ev.calls / xs.length,
      ...raw,
      target: raw.target ?? ts[k],
    }),
  );
  return batch ? out : out[0];
}
