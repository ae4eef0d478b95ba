import type { Backend } from '../backend/backend.js';
import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { Sequential, type ModelSpec } from '../nn/sequential.js';
import type { LayerSpec } from '../nn/layer.js';
import { createOptimizer, type OptimizerSpec } from './optim/index.js';
import { Backprop } from './backprop.js';
import { TpSgd, type TpSgdOptions } from './tpsgd.js';
import { NoPropDT, type NoPropOptions } from './noprop/dt.js';
import { NoPropCT, type NoPropCTOptions } from './noprop/ct.js';
import { NoPropFM, type NoPropFMOptions } from './noprop/fm.js';
import { modelSpec, type ModelName } from './models.js';
import { ruleNames, type LearningRule, type RuleName } from './rule.js';

/** Everything that determines a rule and its initial weights: plain JSON, stored in checkpoints. */
export interface RuleConfig {
  rule: RuleName;
  /** backprop, tpsgd: the network; noprop: the kind of block. */
  model: ModelName;
  /** backprop, tpsgd: these layers instead of the built-in `model` (an imported ONNX network, your own stack). */
  layers?: LayerSpec[];
  inputShape: number[];
  classes: number;
  optimizer: OptimizerSpec;
  seed: number;
  tpsgd?: Omit<TpSgdOptions, 'classes' | 'projectionSeed'>;
  noprop?: Pick<NoPropOptions, 'T' | 'embedding' | 'embedDim' | 'eta' | 'inferenceNoise' | 'maxAlphaBar'> & {
    prototypes?: number[];
  } & Pick<NoPropCTOptions, 'gammaMax' | 'gammaMin' | 'weighting' | 'steps'> &
    Pick<NoPropFMOptions, 'steps'>;
}

const networkSpec = (c: RuleConfig): ModelSpec =>
  c.layers ? { input: c.inputShape, layers: c.layers } : modelSpec(c.model, c.inputShape, c.classes);

/** A learning rule with a freshly initialised model (weights from `seed`). */
export function createRule(c: RuleConfig, backend: Backend): LearningRule {
  const rng = new Rng(c.seed);
  const optimizer = () => createOptimizer(c.optimizer);
  const common = { inputShape: c.inputShape, classes: c.classes, block: c.model, seed: c.seed };
  switch (c.rule) {
    case 'backprop':
      return new Backprop(new Sequential(networkSpec(c), { backend, rng }), optimizer, rng);
    case 'tpsgd':
      return new TpSgd(new Sequential(networkSpec(c), { backend, rng }), optimizer, rng, {
        ...c.tpsgd,
        classes: c.classes,
        projectionSeed: c.seed + 1,
      });
    case 'noprop-dt':
      return new NoPropDT(backend, optimizer, { ...c.noprop, ...common });
    case 'noprop-ct':
      return new NoPropCT(backend, optimizer, { ...c.noprop, ...common });
    case 'noprop-fm':
      return new NoPropFM(backend, optimizer, { ...c.noprop, ...common });
    default:
      return fail(
        'INVALID_ARGUMENT',
        `unknown learning rule ${JSON.stringify(c.rule)}`,
        `use one of: ${ruleNames.join(', ')}`,
      );
  }
}
