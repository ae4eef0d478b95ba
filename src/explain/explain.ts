import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { Sequential } from '../nn/sequential.js';
import type { LearningRule } from '../learn/rule.js';
import { Evaluator } from './batch.js';
import { fromSequential, type Explainable } from './model.js';
import { methodNames, type Attribution, type ExplainOptions } from './types.js';
import {
  deepLift,
  gradientShap,
  guidedBackprop,
  inputXGradient,
  integratedGradients,
  saliency,
  smoothGrad,
  type Raw,
} from './gradient-methods.js';
import { featureAblation, lime, rise } from './perturbation-methods.js';
import { occlusion } from './occlusion.js';
import { kernelShap } from './kernel-shap.js';
import { cam } from './cam-methods.js';

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

async function asArray(input: Float32Array | Tensor | ArrayLike<number>): Promise<Float32Array> {
  if (input instanceof Float32Array) return input;
  if ('storage' in (input as object) && 'backend' in (input as object))
    return Float32Array.from((await (input as Tensor).data()) as Float32Array);
  return Float32Array.from(input as ArrayLike<number>);
}

/** Methods that report the completeness residual, so score the baseline as well as the input. */
const completeness = new Set(['integrated-gradients', 'deeplift']);

/**
 * One attribution of `input` (one sample, the model's input shape) for the target class (default: the predicted
 * one) by `method`, with what it cost and, where defined, the completeness residual.
 */
export async function explain(
  model: ExplainTarget,
  input: Float32Array | Tensor | ArrayLike<number>,
  o: ExplainOptions,
): Promise<Attribution> {
  if (!methodNames.includes(o.method))
    fail('INVALID_ARGUMENT', `unknown method ${JSON.stringify(o.method)}`, `use one of: ${methodNames.join(', ')}`);
  const m = toExplainable(model);
  const x = await asArray(input);
  const per = m.inputShape.reduce((p, d) => p * d, 1);
  if (x.length !== per)
    fail(
      'SHAPE_MISMATCH',
      `the input has ${x.length} values but the model takes [${m.inputShape.join(', ')}] (${per})`,
      'pass one sample, flattened or with the model input shape',
    );
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i])) fail('NON_FINITE', `the input holds ${x[i]} at index ${i}`, 'explain a finite input');
  const ev = new Evaluator(m, o.batchSize ?? 64);
  // one clean pass (not the noisy Smooth Grad-CAM++)
  const camMethod = ['grad-cam', 'grad-cam++', 'normgrad'].includes(o.method);
  const baseline =
    typeof o.baseline === 'number' || o.baseline === undefined
      ? new Float32Array(per).fill(o.baseline ?? 0)
      : o.baseline;
  if (baseline.length !== per)
    fail(
      'SHAPE_MISMATCH',
      `the baseline has ${baseline.length} values, the input ${per}`,
      'pass a baseline of the input shape, or one number',
    );
  // CAM methods find the predicted class in their own forward pass
  let target = o.target ?? (camMethod ? -1 : undefined);
  if (target === undefined) {
    // IG and DeepLIFT need F(x′) too: score both in one call (the Evaluator remembers them)
    const [scores] = await ev.allScores(completeness.has(o.method) ? [x, baseline] : [x]);
    if (scores.some((v) => !Number.isFinite(v)))
      fail(
        'NON_FINITE',
        `the model's class scores for this input are not finite (${[...scores].join(', ')})`,
        'check the model: its weights may have diverged',
      );
    target = scores.indexOf(Math.max(...scores));
  }
  if (
    !(
      Number.isInteger(target) &&
      (target >= 0 || (camMethod && target === -1 && o.target === undefined)) &&
      target < m.classes
    )
  )
    fail(
      'INVALID_ARGUMENT',
      `target class ${target} is outside [0, ${m.classes})`,
      `pass a class index below ${m.classes}`,
    );
  const refs = o.background?.length ? o.background : [baseline];
  const t = target;
  const run: () => Promise<Raw> = {
    saliency: () => saliency(ev, x, t),
    'input-x-gradient': () => inputXGradient(ev, x, t),
    'guided-backprop': () => guidedBackprop(ev, x, t, o),
    smoothgrad: () => smoothGrad(ev, x, t, o, 'mean'),
    'smoothgrad-sq': () => smoothGrad(ev, x, t, o, 'square'),
    vargrad: () => smoothGrad(ev, x, t, o, 'var'),
    'integrated-gradients': () => integratedGradients(ev, x, baseline, t, o),
    deeplift: () => deepLift(ev, x, baseline, t),
    'gradient-shap': () => gradientShap(ev, x, refs, t, o),
    occlusion: () => occlusion(ev, x, baseline, t, o),
    'feature-ablation': () => featureAblation(ev, x, baseline, t, o),
    'kernel-shap': () => kernelShap(ev, x, refs, t, o),
    lime: () => lime(ev, x, baseline, t, o),
    rise: () => rise(ev, x, t, o),
    'grad-cam': () => cam(ev, x, t, o, 'grad-cam'),
    'grad-cam++': () => cam(ev, x, t, o, 'grad-cam++'),
    'smooth-grad-cam++': () => cam(ev, x, t, o, 'smooth-grad-cam++'),
    normgrad: () => cam(ev, x, t, o, 'normgrad'),
  }[o.method];
  const raw = await run();
  return { method: o.method, shape: [...m.inputShape], modelCalls: ev.calls, ...raw, target: raw.target ?? t };
}
