import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { tidy } from '../core/scope.js';
import { assign } from '../ops/index.js';
import type { Sequential } from '../nn/sequential.js';
import type { GroupState } from './group-state.js';
import type { LearningRule, ParamGroup, StepResult } from './rule.js';

/** How a trunk tensor is named among the rule's buffers (and so in checkpoints): `trunk.` + its model name. */
const trunkName = (k: string) => `trunk.${k}`;

/**
 * A rule trained as a head on the features of a frozen network (`RuleConfig.trunk`): every batch goes through the
 * trunk in inference mode, and the head rule learns on its output. The trunk never trains: its parameters and
 * batch-norm statistics are buffers, saved-but-not-trained state that checkpoints hold beside the head's groups.
 * Runs in one thread (no parallelism).
 */
export class FrozenTrunk implements LearningRule {
  readonly name: string;
  readonly backend: Backend;

  constructor(
    readonly trunk: Sequential,
    readonly head: LearningRule,
  ) {
    this.name = head.name;
    this.backend = head.backend;
  }

  /** Copies the parameters and statistics of `source`'s first layers (an imported network, say) into the trunk. */
  loadTrunk(source: Sequential): void {
    const values = new Map([...source.namedParams(), ...source.namedBuffers()]);
    tidy(() => {
      for (const [k, t] of [...this.trunk.namedParams(), ...this.trunk.namedBuffers()]) assign(t, values.get(k)!);
    });
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    const features = this.trunk.predict(x);
    try {
      return this.head.trainStep(features, y);
    } finally {
      features.dispose();
    }
  }

  predict(x: Tensor): Tensor {
    return tidy(() => this.head.predict(this.trunk.predict(x)));
  }

  params(): Map<string, Tensor> {
    return this.head.params();
  }

  buffers(): Map<string, Tensor> {
    const b = this.head.buffers();
    for (const [k, t] of [...this.trunk.namedParams(), ...this.trunk.namedBuffers()]) b.set(trunkName(k), t);
    return b;
  }

  /** The head's groups, reading the trunk's output where they read the batch. */
  groups(): ParamGroup[] {
    return this.head.groups().map((g) => ({ ...g, reads: g.reads.map((r) => (r === 'x' ? 'output:trunk' : r)) }));
  }

  saveGroup(name: string): Promise<GroupState> {
    return this.head.saveGroup(name);
  }

  loadGroup(name: string, state: GroupState): void {
    this.head.loadGroup(name, state);
  }

  setLr(lr: number): void {
    this.head.setLr(lr);
  }

  parallelism(): null {
    return null;
  }

  dispose(): void {
    this.head.dispose(); // the trunk's layers are left alone, as every rule leaves its layers' parameters
  }
}
