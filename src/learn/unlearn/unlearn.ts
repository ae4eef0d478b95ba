import { fail } from '../../core/errors.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { LearningRule } from '../rule.js';
import { finetune, gradientAscent, randomLabels, retrain, type Resolved } from './methods.js';
import { unlearnMethods, type UnlearnMethod, type UnlearnOptions } from './options.js';

export interface UnlearnResult {
  /** A new rule without the forget set's influence (the trained one is left as it was): release it when done. */
  rule: LearningRule;
  method: UnlearnMethod;
  /** Wall time of the method (for SalUn the saliency and the mask included). */
  seconds: number;
}

/**
 * Removes the influence of `forget` from a trained rule, keeping what `retain` taught it. SalUn (Fan et al., ICLR
 * 2024) by default; the baselines of the paper by `method`. Every rule works: gradients and updates go through its
 * own trainStep (see `UpdateProbe`).
 */
export async function unlearn(rule: LearningRule, options: UnlearnOptions): Promise<UnlearnResult> {
  const o = resolve(rule, options);
  const t0 = performance.now();
  let out: LearningRule;
  switch (o.method) {
    case 'retrain':
      out = await retrain(rule, o, {
        epochs: options.retrain?.epochs ?? o.epochs,
        batchSize: options.retrain?.batchSize ?? o.batchSize,
        seed: options.retrain?.seed ?? o.seed,
        lr: options.retrain?.lr ?? o.config.optimizer.lr,
        schedule: options.retrain?.schedule,
      });
      break;
    case 'finetune':
      out = await finetune(rule, o);
      break;
    case 'gradient-ascent':
      out = await gradientAscent(rule, o);
      break;
    case 'random-labels':
      out = await randomLabels(rule, o, false);
      break;
    case 'salun':
      out = await randomLabels(rule, o, true);
      break;
  }
  return { rule: out, method: o.method, seconds: (performance.now() - t0) / 1000 };
}

function resolve(rule: LearningRule, u: UnlearnOptions): Resolved {
  const method = u.method ?? 'salun';
  if (!unlearnMethods.includes(method))
    fail('INVALID_ARGUMENT', `unknown unlearning method ${JSON.stringify(method)}`, `use ${unlearnMethods.join(', ')}`);
  if (u.forget.count === 0)
    fail('INVALID_ARGUMENT', 'the forget set is empty', 'name at least one training sample to forget');
  if (u.retain.count === 0)
    fail('INVALID_ARGUMENT', 'the retain set is empty', 'forgetting everything is training a new model: do that');
  checkData(u.forget, u, 'forget');
  checkData(u.retain, u, 'retain');
  if (rule.params().size === 0)
    fail('INVALID_ARGUMENT', `the ${rule.name} rule has no trainable parameters`, 'unlearn a rule that learns');
  const lr = u.lr ?? u.optimizer?.lr ?? u.config.optimizer.lr;
  const whole = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1)
      fail('INVALID_ARGUMENT', `${name} ${v} is not a positive integer`, `pass ${name} ≥ 1`);
    return v;
  };
  if (!(lr > 0)) fail('INVALID_ARGUMENT', `learning rate ${lr} is not positive`, 'pass a learning rate such as 1e-3');
  return {
    config: u.config,
    forget: u.forget,
    retain: u.retain,
    method,
    epochs: whole(u.epochs ?? 5, 'epochs'),
    lr,
    optimizer: { ...(u.optimizer ?? u.config.optimizer), lr },
    batchSize: whole(u.batchSize ?? 64, 'batch size'),
    seed: u.seed ?? u.config.seed,
    gamma: u.gamma ?? 0.5,
    normalization: u.normalization,
    onStep: u.onStep,
  };
}

/** The samples must be what the model takes: its input size and its classes. */
function checkData(ds: ImageDataset, u: UnlearnOptions, name: string): void {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2],
    expected = u.config.inputShape.reduce((a, b) => a * b, 1);
  if (size !== expected)
    fail(
      'SHAPE_MISMATCH',
      `the ${name} set's images hold ${size} values, the model takes ${expected} ([${u.config.inputShape.join(', ')}])`,
      'split the training set the model was trained on',
    );
  if (ds.classes > u.config.classes)
    fail(
      'INVALID_ARGUMENT',
      `the ${name} set has ${ds.classes} classes, the model ${u.config.classes}`,
      'split the training set the model was trained on',
    );
}
