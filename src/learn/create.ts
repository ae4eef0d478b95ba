import type { Backend } from '../backend/backend.js';
import { Rng } from '../core/rng.js';
import { fail } from '../core/errors.js';
import { Sequential, type ModelSpec } from '../nn/sequential.js';
import type { LayerSpec } from '../nn/layer.js';
import { createOptimizer, type OptimizerSpec } from './optim/index.js';
import { Backprop } from './backprop.js';
import { TpSgd, type TpSgdOptions } from './tpsgd.js';
import { FrozenTrunk } from './frozen-trunk.js';
import { NoPropDT, type NoPropOptions } from './noprop/dt.js';
import { NoPropCT, type NoPropCTOptions } from './noprop/ct.js';
import { NoPropFM, type NoPropFMOptions } from './noprop/fm.js';
import { modelSpec, type ModelName } from './models.js';
import type { LearningRule, RuleName } from './rule.js';
import type { ParallelismKind } from './parallelism.js';

/** Everything that determines a rule and its initial weights: plain JSON, stored in checkpoints. */
export interface RuleConfig {
  /** A built-in rule, or one registered with `registerRule`. */
  rule: RuleName | (string & {});
  /** backprop, tpsgd: the network; noprop: the kind of block. */
  model: ModelName;
  /** backprop, tpsgd: these layers instead of the built-in `model` (an imported ONNX network, your own stack). */
  layers?: LayerSpec[];
  /**
   * backprop, tpsgd: layers [0, frozenLayers) of the network keep their parameters and batch-norm statistics (they
   * run as in inference); the rest fine-tune. At most the index of the last layer with parameters.
   */
  frozenLayers?: number;
  /**
   * A frozen network before the rule, taking `inputShape`: the rule is a head trained on its output (its own input
   * shape is the trunk's output shape). The trunk's weights are buffers of the rule (`FrozenTrunk`), never trained.
   */
  trunk?: LayerSpec[];
  inputShape: number[];
  classes: number;
  optimizer: OptimizerSpec;
  seed: number;
  /**
   * How the draws that checkpoints do not store are seeded: tpSGD's projections (stored as buffers, but a worker
   * builds them from the config) and NoProp's inference noise z_0. 'named': from `Rng.stream(seed, …)`
   * ('tpsgd/projection', 'noprop/inference'); set it on new configs. Absent: the seed arithmetic of the configs
   * written before named streams (`seed + 1`, `seed + 7`), so that every stored checkpoint, which lacks the field,
   * goes on training and predicting as it did. Draws that checkpoints do store (initial weights, each group's
   * training stream) come from named streams in either case.
   */
  streams?: 'named';
  tpsgd?: Omit<TpSgdOptions, 'classes' | 'projectionRng' | 'frozenLayers'> & {
    /** Draw the projections from `new Rng(projectionSeed)` instead (wins over `streams`). */
    projectionSeed?: number;
  };
  noprop?: Pick<NoPropOptions, 'T' | 'embedding' | 'embedDim' | 'eta' | 'inferenceNoise' | 'maxAlphaBar'> & {
    prototypes?: number[];
  } & Pick<NoPropCTOptions, 'gammaMax' | 'gammaMin' | 'weighting' | 'steps'> &
    Pick<NoPropFMOptions, 'steps'>;
}

const networkSpec = (c: RuleConfig): ModelSpec =>
  c.layers ? { input: c.inputShape, layers: c.layers } : modelSpec(c.model, c.inputShape, c.classes);

/** A learning rule with a freshly initialised model (weights from `seed`). */
export function createRule(c: RuleConfig, backend: Backend): LearningRule {
  if (c.trunk) {
    const { trunk: layers, ...head } = c;
    const trunk = new Sequential({ input: c.inputShape, layers }, { backend, rng: Rng.stream(c.seed, 'trunk/init') });
    return new FrozenTrunk(trunk, createRule({ ...head, inputShape: [...trunk.outputShape] }, backend));
  }
  if (c.frozenLayers !== undefined && c.rule !== 'backprop' && c.rule !== 'tpsgd')
    fail(
      'INVALID_ARGUMENT',
      `frozenLayers applies to backprop and tpsgd, not ${c.rule}`,
      'train the rule as a head on a frozen network instead (RuleConfig.trunk)',
    );
  const rng = new Rng(c.seed);
  const optimizer = () => createOptimizer(c.optimizer);
  const named = c.streams === 'named';
  const common = {
    inputShape: c.inputShape,
    classes: c.classes,
    // NoProp's blocks are mlp and cnn: its constructor refuses a recurrent model name with a typed error
    block: c.model as 'mlp' | 'cnn',
    seed: c.seed,
    streams: named ? ('named' as const) : ('legacy' as const),
  };
  switch (c.rule) {
    case 'backprop':
      return new Backprop(new Sequential(networkSpec(c), { backend, rng }), optimizer, rng, {
        frozenLayers: c.frozenLayers,
      });
    case 'tpsgd': {
      const { projectionSeed, ...tpsgd } = c.tpsgd ?? {};
      const projectionRng =
        projectionSeed !== undefined
          ? new Rng(projectionSeed)
          : named
            ? Rng.stream(c.seed, 'tpsgd/projection')
            : new Rng(c.seed + 1);
      return new TpSgd(new Sequential(networkSpec(c), { backend, rng }), optimizer, rng, {
        ...tpsgd,
        classes: c.classes,
        projectionRng,
        frozenLayers: c.frozenLayers,
      });
    }
    case 'noprop-dt':
      return new NoPropDT(backend, optimizer, { ...c.noprop, ...common });
    case 'noprop-ct':
      return new NoPropCT(backend, optimizer, { ...c.noprop, ...common });
    case 'noprop-fm':
      return new NoPropFM(backend, optimizer, { ...c.noprop, ...common });
    default:
      return (registeredRule(c.rule) ?? unknownRule(c.rule)).create(c, backend);
  }
}

/** A learning rule of your own: how to build it from its config, and the parallelism it declares. */
export interface RuleDefinition {
  /** The rule with fresh weights from `config` (everything it needs must be in the config: workers rebuild it). */
  create(config: RuleConfig, backend: Backend): LearningRule;
  /** The kind of `rule.parallelism()`, known without building the rule (placement reads it), or null. */
  parallelism(config: RuleConfig): ParallelismKind | null;
}

/** The parallelism of the built-in rules, by name: learn/ knows its rules; parallel/ asks only for the kind. */
const builtInParallelism: Record<RuleName, ParallelismKind> = {
  backprop: 'gpipe',
  tpsgd: 'forward-pipeline',
  'noprop-dt': 'independent',
  'noprop-ct': 'independent',
  'noprop-fm': 'independent',
};

const custom = new Map<string, RuleDefinition>();

/**
 * Makes `createRule({ rule: name, … })` build your rule, here and — when the module that calls this is passed to
 * `trainParallel` as `ruleModules` — in every stage worker. A name may be registered once.
 */
export function registerRule(name: string, def: RuleDefinition): void {
  if (Object.hasOwn(builtInParallelism, name) || custom.has(name))
    fail('INVALID_ARGUMENT', `a learning rule named ${JSON.stringify(name)} exists already`, 'register another name');
  custom.set(name, def);
}

/** The registered definition of a rule that is not built in, if any. */
export function registeredRule(name: string): RuleDefinition | undefined {
  return custom.get(name);
}

/** The kind of parallelism the rule `c` names declares; a typed error for a rule nobody registered. */
export function parallelismOf(c: RuleConfig): ParallelismKind | null {
  if (c.trunk) return null; // FrozenTrunk trains in one thread
  if (Object.hasOwn(builtInParallelism, c.rule)) return builtInParallelism[c.rule as RuleName];
  const def = registeredRule(c.rule) ?? unknownRule(c.rule);
  return def.parallelism(c);
}

/** The error for a rule name that is neither built in nor registered. */
export function unknownRule(name: string): never {
  return fail(
    'INVALID_ARGUMENT',
    `unknown learning rule ${JSON.stringify(name)}`,
    `use one of: ${[...Object.keys(builtInParallelism), ...custom.keys()].join(', ')}, or registerRule() your own`,
  );
}
