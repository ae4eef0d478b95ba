import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/scope.js';
import { div, sub } from '../../ops/index.js';
import type { RuleConfig } from '../create.js';
import type { LearningRule } from '../rule.js';
import { cloneRule, release, restore, type Weights } from './weights.js';

/**
 * The probe's learning rate: a power of two, so dividing by it is exact, and large, so that θ − θ' is dominated by
 * the step and keeps the gradient's own float32 precision (with L = 1 a small gradient drowns in the rounding of θ).
 */
export const PROBE_LR = 2 ** 16;

/**
 * The update a rule makes for a batch, read off a copy of it that learns with plain SGD (no momentum, no weight
 * decay) at learning rate L: (θ − θ') / L is the gradient of each parameter's own training loss, whatever the rule —
 * backprop's end-to-end cross-entropy, each tpSGD segment's local loss against its projected target (times the
 * segment's lr scale), each NoProp block's denoising loss and the head's loss. No rule is changed for this: its
 * trainStep is the only way it updates, so it is the only way we ask.
 */
export class UpdateProbe {
  private readonly rule: LearningRule;

  constructor(source: LearningRule, config: RuleConfig) {
    this.rule = cloneRule(source, config, { type: 'sgd', lr: PROBE_LR });
  }

  /**
   * The rule's gradient for batch (x, y) at weights `at` (parameters and buffers, written into the probe first, so
   * batch-norm statistics never drift between batches). A record of new tensors by parameter name: dispose them.
   */
  gradient(at: Weights, x: Tensor, y: Tensor): Record<string, Tensor> {
    restore(this.rule, at);
    this.rule.trainStep(x, y).loss.dispose(); // the loss is not needed: the step's effect on θ is
    return tidy(() =>
      Object.fromEntries([...this.rule.params()].map(([k, t]) => [k, div(sub(at.params[k], t), PROBE_LR)])),
    );
  }

  dispose(): void {
    release(this.rule);
  }
}
