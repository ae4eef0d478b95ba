import { fail } from '../../core/errors.js';
import { fromRule, type Explainable, type GradientRule } from '../../explain/model.js';
import type { LearningRule } from '../../learn/rule.js';
import type { StageContext } from '../stage-context.js';

/** Explanations spread over workers: this replica's class scores and input gradients for a share of a batch. */
export class ExplanationProgram {
  private explained: { rule: LearningRule; ex: Explainable } | null = null;

  scores(ctx: StageContext, x: Float32Array, batch: number): Promise<Float32Array> {
    return this.explainable(ctx).scores(x, batch);
  }

  gradients(
    ctx: StageContext,
    x: Float32Array,
    batch: number,
    targets: Int32Array,
    rule: GradientRule,
  ): Promise<Float32Array> {
    const m = this.explainable(ctx);
    return m.gradients
      ? m.gradients(x, batch, targets, rule)
      : fail('INVALID_ARGUMENT', `${ctx.label}: this model has no gradients`, 'use a perturbation method');
  }

  /** The rule as an Explainable, made once per rule (weights loaded later are seen: they are the same tensors). */
  private explainable(ctx: StageContext): Explainable {
    if (this.explained?.rule !== ctx.rule)
      this.explained = { rule: ctx.rule, ex: fromRule(ctx.rule, ctx.config.inputShape, ctx.config.classes) };
    return this.explained.ex;
  }
}
