import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../core/tensor.js';
import type { BatchIterator } from '../data/batches.js';
import type { RuleConfig } from '../learn/create.js';
import type { LearningRule } from '../learn/rule.js';
import type { Parallelism, SegmentChain } from '../learn/parallelism.js';
import type { Channel } from './channel.js';
import type { WireTensor } from './wire.js';

/** What a stage's programs work with: the rule on this worker's backend, its data, and its neighbours. */
export interface StageContext {
  readonly config: RuleConfig;
  readonly rule: LearningRule;
  readonly backend: Backend;
  /** Names the stage in errors ('stage 1 (block3, block4)'). */
  readonly label: string;
  /** The rule's declared parallelism when it is of kind `kind`; a typed error naming the stage otherwise. */
  parallelism<K extends Parallelism['kind']>(kind: K): Extract<Parallelism, { kind: K }>;
  /** The rule's chain of segments (either pipeline kind); a typed error when it declares none. */
  chain(): SegmentChain;
  /** Whether this stage reads the data itself (else its input arrives from the previous stage). */
  holdsData(): boolean;
  /** The seeded batches this stage reads. */
  batches(): BatchIterator;
  prev(): Channel;
  next(): Channel;
}

/** An activation on its way to the next stage: its values, the batch's labels, and its share of the batch. */
export interface ActMessage {
  x: WireTensor;
  y: Int32Array;
  share: number;
}

/** A batch as tensors on the stage's backend, with its labels as a plain array to pass on. */
export interface StageBatch {
  x: Tensor;
  y: Tensor;
  labels: Int32Array;
  /** Its share of the whole batch (micro-batches of GPipe; 1 otherwise). */
  share: number;
}
