import type { Backend } from '../backend/backend.js';
import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { Sequential, type ModelSpec } from '../nn/sequential.js';
import { createOptimizer, type OptimizerSpec } from './optim/index.js';
import { Backprop } from './backprop.js';
import { TpSgd, type LocalLoss, type TpSgdOptions } from './tpsgd.js';
import { ruleNames, type LearningRule, type RuleName } from './rule.js';

export interface RuleConfig {
  rule: RuleName;
  spec: ModelSpec;
  classes: number;
  optimizer: OptimizerSpec;
  seed: number;
  /** tpsgd: the local loss. */
  localLoss?: LocalLoss;
  /** tpsgd: projection and per-segment learning-rate options (`localLoss` wins over `tpsgd.loss`). */
  tpsgd?: Omit<TpSgdOptions, 'classes' | 'projectionSeed'>;
}

/** A learning rule with a freshly initialised model (weights from `seed`). */
export function createRule(c: RuleConfig, backend: Backend): LearningRule {
  const rng = new Rng(c.seed);
  switch (c.rule) {
    case 'backprop':
      return new Backprop(new Sequential(c.spec, { backend, rng }), createOptimizer(c.optimizer), rng);
    case 'tpsgd':
      return new TpSgd(new Sequential(c.spec, { backend, rng }), () => createOptimizer(c.optimizer), rng,
        { ...c.tpsgd, classes: c.classes, loss: c.localLoss ?? c.tpsgd?.loss, projectionSeed: c.seed + 1 });
    default:
      return fail('INVALID_ARGUMENT', `learning rule '${c.rule}' is not available yet`, `use one of: ${ruleNames.join(', ')}`);
  }
}
