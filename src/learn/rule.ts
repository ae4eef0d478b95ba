import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import type { GroupState } from './group-state.js';
import type { Parallelism } from './parallelism.js';

export const ruleNames = ['backprop', 'tpsgd', 'noprop-dt', 'noprop-ct', 'noprop-fm'] as const;
export type RuleName = (typeof ruleNames)[number];

/**
 * A set of parameters whose update needs only what `reads` names: the coordinator places and schedules
 * groups on workers from this (a group that reads only 'x' and 'y' can train in parallel with all others).
 */
export interface ParamGroup {
  name: string;
  params: string[];
  /** 'x' and 'y' are the batch; 'output:<group>' is another group's forward output. */
  reads: string[];
  /** Groups whose backward traffic this group's update waits for (backprop's chain); empty for local rules. */
  waitsFor: string[];
}

export interface StepResult {
  /**
   * The training loss of the batch (for local rules, the sum of the local losses): a scalar tensor, read it with `await
   * loss.data()`.
   */
  loss: Tensor;
}

/** A learning rule takes a batch and updates its model's parameters. */
export interface LearningRule {
  /** A built-in rule's name (`RuleName`), or the name a rule of your own was registered under (`registerRule`). */
  readonly name: string;
  readonly backend: Backend;
  trainStep(x: Tensor, y: Tensor): StepResult;
  /** Class scores [B, classes] (logits or log-probabilities; the argmax is the prediction). */
  predict(x: Tensor): Tensor;
  /** Every trainable parameter by name. */
  params(): Map<string, Tensor>;
  /** Saved-but-not-trained state (batch-norm running statistics, fixed projections). */
  buffers(): Map<string, Tensor>;
  groups(): ParamGroup[];
  /** A group's parameters, optimizer state and random stream, to restore elsewhere (another worker, a resumed run). */
  saveGroup(name: string): Promise<GroupState>;
  loadGroup(name: string, state: GroupState): void;
  /** Sets the learning rate of every optimizer of the rule (the schedule calls this each step). */
  setLr(lr: number): void;
  /** How its groups may be spread over workers (`trainParallel`), or null: it trains in one thread only. */
  parallelism(): Parallelism | null;
  dispose(): void;
}

/**
 * The state of the named groups of a rule (default all of them). Every save starts before the first await, so
 * they describe one moment: nothing may train until the promise settles.
 */
export async function saveGroups(
  rule: LearningRule,
  names: readonly string[] = rule.groups().map((g) => g.name),
): Promise<Record<string, GroupState>> {
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await rule.saveGroup(n)] as const)));
}
