import type { Backend } from '../backend/backend.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Normalization } from '../data/batches.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { GroupState } from '../learn/group-state.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import { evaluate, type EpochReport, type TrainOptions, train } from '../learn/trainer.js';
import { FederatedError } from './errors.js';
import { withProximal } from './proximal.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { configNumber, type FlowerArray, type FlowerRecord } from './records.js';
import type { ClientAppHandler, IncomingMessage } from './supernode.js';

/** Trains a rule locally; the default trains in this thread, an app passes one over workers (`trainParallel`). */
export type LocalTrainer = (
  rule: LearningRule,
  trainSet: ImageDataset,
  testSet: ImageDataset,
  o: TrainOptions,
) => Promise<{ epochs: EpochReport[] }>;

export interface RuleClientOptions {
  config: RuleConfig;
  backend: Backend;
  /** The device's own data: it never leaves the device. */
  trainSet: ImageDataset;
  testSet: ImageDataset;
  /** Defaults when the server's config record does not set them ('local-epochs', 'lr', 'batch-size'). */
  epochs?: number;
  lr?: number;
  batchSize?: number;
  normalization?: Normalization;
  /**
   * Trains locally (default: `train` in this thread). FedProx's proximal term ('proximal-mu' in the server's config)
   * is applied as a decoupled step after each optimizer step of the rule it is given (see `withProximal`); a trainer
   * that trains a copy elsewhere (workers) cannot, and says so with `trainerAppliesProximal: false`.
   */
  trainer?: LocalTrainer;
  /**
   * Whether `trainer` trains the rule it is given, so that FedProx's proximal step applies (default true). When
   * false, a train message with 'proximal-mu' > 0 is refused with a typed error rather than trained as FedAvg.
   */
  trainerAppliesProximal?: boolean;
}

/** The names arrays travel under: `<group>/<tensor>`, in the rule's group order. */
export const arrayName = (group: string, tensor: string) => `${group}/${tensor}`;

/** The rule's weights as Flower arrays (float32 `.npy`). */
export async function ruleArrays(rule: LearningRule): Promise<Map<string, FlowerArray>> {
  const out = new Map<string, FlowerArray>();
  for (const [g, s] of Object.entries(await saveGroups(rule)))
    for (const [k, t] of Object.entries(s.tensors))
      out.set(arrayName(g, k), {
        dtype: 'float32',
        shape: t.shape,
        stype: 'numpy.ndarray',
        data: encodeNpy({ dtype: 'float32', shape: t.shape, data: t.data }),
      });
  return out;
}

/**
 * Loads global arrays into the rule: every tensor of every group must come, float32 (or float64, rounded), with
 * its shape; anything else is a 'shape' error raised before the rule is touched. Optimizer state and random streams
 * stay the device's own.
 */
export async function loadRuleArrays(rule: LearningRule, arrays: ReadonlyMap<string, FlowerArray>): Promise<void> {
  const states = await saveGroups(rule);
  const next: Record<string, GroupState> = {};
  const expected = new Set<string>();
  for (const [g, s] of Object.entries(states)) {
    const tensors: GroupState['tensors'] = {};
    for (const [k, t] of Object.entries(s.tensors)) {
      const name = arrayName(g, k);
      expected.add(name);
      const a = arrays.get(name);
      if (!a) throw new FederatedError('shape', `the server sent no array '${name}'`, 'start the run from this model');
      const npy = decodeNpy(a.data);
      const float = npy.dtype === 'float32' || npy.dtype === 'float64';
      if (!float || npy.shape.join(',') !== t.shape.join(','))
        throw new FederatedError(
          'shape',
          `array '${name}' is ${npy.dtype} [${npy.shape}], the model needs float32 [${t.shape}]`,
          'start the run from this model configuration',
        );
      // float64 is rounded to float32: Flower's FedAdam returns float64 arrays under NumPy 2 (its float64 scalars)
      const data = npy.dtype === 'float32' ? (npy.data as Float32Array) : Float32Array.from(npy.data as Float64Array);
      tensors[k] = { shape: t.shape, data };
    }
    next[g] = { ...s, tensors };
  }
  const extra = [...arrays.keys()].filter((k) => !expected.has(k));
  if (extra.length > 0)
    throw new FederatedError('shape', `the server sent arrays the model lacks: ${extra.join(', ')}`, 'check --model');
  for (const [g, s] of Object.entries(next)) rule.loadGroup(g, s);
}

const arraysOf = (m: IncomingMessage): Map<string, FlowerArray> => {
  const r = m.content.get('arrays');
  if (r?.kind !== 'arrays') throw new FederatedError('malformed', `a ${m.messageType} message without arrays`, '');
  return r.arrays;
};

/**
 * Flower's ClientApp contract over a layerhive rule: 'train' loads the global arrays, trains on the device's data
 * and replies `arrays` + `metrics` (num-examples, loss, accuracy); 'evaluate' replies `metrics` on the local test
 * set. Nothing else is in a reply: no samples, labels or config.
 */
export function ruleClientApp(o: RuleClientOptions): { handler: ClientAppHandler; rule: LearningRule } {
  const rule = createRule(o.config, o.backend);
  const handler: ClientAppHandler = async (m) => {
    const category = m.messageType.split('.')[0];
    const cfg = m.content.get('config');
    const config = cfg?.kind === 'config' ? cfg.values : undefined;
    await loadRuleArrays(rule, arraysOf(m));
    if (category === 'train') {
      const round = configNumber(config, 'server-round', Number(m.groupId) || 1);
      const mu = configNumber(config, 'proximal-mu', 0);
      if (!(mu >= 0)) throw new FederatedError('malformed', `proximal-mu ${mu} is negative`, 'set proximal-mu ≥ 0');
      if (mu > 0 && o.trainerAppliesProximal === false)
        throw new FederatedError(
          'refused',
          `the server asks for FedProx (proximal-mu ${mu}), which this client cannot apply while training over workers`,
          'train in this thread (no --workers), or run the federation with FedAvg',
        );
      const proximal = mu > 0 ? withProximal(rule, mu) : undefined;
      let r: { epochs: EpochReport[] };
      try {
        r = await (o.trainer ?? train)(proximal?.rule ?? rule, o.trainSet, o.testSet, {
          epochs: configNumber(config, 'local-epochs', o.epochs ?? 1),
          lr: configNumber(config, 'lr', o.lr ?? 0.05),
          batchSize: configNumber(config, 'batch-size', o.batchSize ?? 32),
          seed: o.config.seed + round,
          normalization: o.normalization,
        });
      } finally {
        proximal?.release();
      }
      const last = r.epochs[r.epochs.length - 1];
      const metrics: FlowerRecord = {
        kind: 'metrics',
        values: new Map([
          ['num-examples', o.trainSet.count],
          ['loss', last?.trainLoss ?? 0],
          ['accuracy', last?.testAccuracy ?? 0],
        ]),
      };
      return new Map<string, FlowerRecord>([
        ['arrays', { kind: 'arrays', arrays: await ruleArrays(rule) }],
        ['metrics', metrics],
      ]);
    }
    if (category === 'evaluate') {
      const accuracy = await evaluate((x) => rule.predict(x), rule.backend, o.testSet, 256, o.normalization);
      const values = new Map([
        ['num-examples', o.testSet.count],
        ['accuracy', accuracy],
      ]);
      return new Map<string, FlowerRecord>([['metrics', { kind: 'metrics', values }]]);
    }
    throw new FederatedError('refused', `this client answers train and evaluate, not '${m.messageType}'`, '');
  };
  return { handler, rule };
}
