import type { Backend } from '../backend/backend.js';
import type { BatchCursor } from '../data/batches.js';
import { fail } from '../core/errors.js';
import { tidy } from '../core/scope.js';
import { assign, tensor } from '../ops/index.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import { plainTensors, type GroupState, type PlainTensor } from '../learn/group-state.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';

/**
 * Everything a training run needs to go on exactly where it stopped: the rule's configuration (which fixes
 * the model), every group's parameters, optimizer moments, step count and random stream, the saved-but-not-
 * trained buffers (batch-norm statistics, fixed projections), and the data cursor (epoch, position, shuffle
 * state). `meta` is free JSON for the caller (dataset name, accuracy, …).
 */
export interface Checkpoint {
  config: RuleConfig;
  groups: Record<string, GroupState>;
  buffers: Record<string, PlainTensor>;
  cursor: BatchCursor | null;
  meta: Record<string, unknown>;
}

/** The rule's full state now (nothing may train until the promise settles). */
export async function captureCheckpoint(
  rule: LearningRule,
  config: RuleConfig,
  o: { cursor?: BatchCursor | null; meta?: Record<string, unknown> } = {},
): Promise<Checkpoint> {
  const [groups, buffers] = await Promise.all([saveGroups(rule), plainTensors(rule.buffers())]);
  return { config, groups, buffers, cursor: o.cursor ?? null, meta: o.meta ?? {} };
}

/** A new rule on `backend` in the checkpoint's state; a checkpoint that does not fit its own config is an error. */
export function restoreRule(ck: Checkpoint, backend: Backend): LearningRule {
  const rule = createRule(ck.config, backend);
  try {
    for (const g of rule.groups()) {
      const s =
        ck.groups[g.name] ??
        fail(
          'DATA_INVALID',
          `the checkpoint lacks group '${g.name}' of its ${ck.config.rule} model`,
          'it was written by another version of the model; train again',
        );
      rule.loadGroup(g.name, s);
    }
    for (const [k, t] of rule.buffers()) {
      const v = ck.buffers[k];
      if (!v || v.data.length !== t.size)
        fail(
          'DATA_INVALID',
          `the checkpoint ` +
            (v ? `has ${v.data.length} values for buffer '${k}', not ${t.size}` : `lacks buffer '${k}'`),
          'it was written by another version of the model; train again',
        );
      tidy(() => assign(t, tensor(v.data, t.shape, 'float32', backend)));
    }
  } catch (e) {
    rule.dispose();
    throw e;
  }
  return rule;
}

/**
 * Copies the parameter values (and batch-norm statistics) of `ck` into `rule` by name, whatever rule wrote them:
 * how a network trained by backprop is handed to tpSGD or NoProp for fine-tuning. The optimizer and random state
 * stay the rule's own. A parameter missing from the checkpoint, or of another size, is an error that changes nothing.
 */
export function copyWeights(ck: Checkpoint, rule: LearningRule): void {
  const values = new Map<string, PlainTensor>();
  for (const g of Object.values(ck.groups)) for (const [k, t] of Object.entries(g.tensors)) values.set(k, t);
  for (const [k, t] of Object.entries(ck.buffers)) values.set(k, t);
  const targets = [...rule.params(), ...[...rule.buffers()].filter(([k]) => values.has(k))];
  for (const [k, t] of targets) {
    const v = values.get(k);
    if (!v || v.data.length !== t.size)
      fail(
        'SHAPE_MISMATCH',
        `the checkpoint ${v ? `has ${v.data.length} values for '${k}', not ${t.size}` : `has no parameter '${k}'`}`,
        'copy weights between rules on the same network',
      );
  }
  tidy(() => {
    for (const [k, t] of targets) assign(t, tensor(values.get(k)!.data, t.shape, 'float32', t.backend));
  });
}
