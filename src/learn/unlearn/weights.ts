import type { Tensor } from '../../core/tensor.js';
import { fail } from '../../core/errors.js';
import { dispose, keep, tidy } from '../../core/scope.js';
import { assign, copy } from '../../ops/index.js';
import { createRule, type RuleConfig } from '../create.js';
import type { OptimizerSpec } from '../optim/index.js';
import type { LearningRule } from '../rule.js';

/** A copy of a rule's parameters and buffers on its device, by name (plain records: `tidy` looks through them). */
export interface Weights {
  params: Record<string, Tensor>;
  buffers: Record<string, Tensor>;
}

/** Device copies of every parameter and buffer of `rule`; the caller disposes them (`dispose(w)`). */
export function snapshot(rule: LearningRule): Weights {
  const copies = (m: Map<string, Tensor>) => Object.fromEntries([...m].map(([k, t]) => [k, keep(copy(t))]));
  return { params: copies(rule.params()), buffers: copies(rule.buffers()) };
}

/** Writes `w` back into `rule` in place (parameters keep their identity, so optimizers still hold them). */
export function restore(rule: LearningRule, w: Weights): void {
  const targets = [...rule.params(), ...rule.buffers()];
  const all = { ...w.buffers, ...w.params };
  for (const [k, t] of targets)
    if (!all[k] || all[k].size !== t.size)
      fail(
        'SHAPE_MISMATCH',
        `rule tensor '${k}' has no counterpart of ${t.size} values to copy from`,
        'copy weights between rules built from the same RuleConfig',
      );
  tidy(() => {
    for (const [k, t] of targets) assign(t, all[k]);
  });
}

/**
 * A new rule from `config` (its optimizer replaced by `optimizer` when given: fresh moments) holding `rule`'s
 * current parameters and buffers. The original is left alone.
 */
export function cloneRule(rule: LearningRule, config: RuleConfig, optimizer?: OptimizerSpec): LearningRule {
  const clone = createRule(optimizer ? { ...config, optimizer } : config, rule.backend);
  const w = snapshot(rule);
  try {
    restore(clone, w);
  } catch (e) {
    clone.dispose();
    throw e;
  } finally {
    dispose(w);
  }
  return clone;
}

/**
 * Frees a rule this module made (a clone, a probe, a retrained model): its optimizer state, and — since a rule's
 * `dispose` leaves its layers' tensors to their owner, which here is us — its parameters and buffers too.
 */
export function release(rule: LearningRule): void {
  const tensors = [...rule.params().values(), ...rule.buffers().values()];
  rule.dispose();
  dispose(tensors);
}
