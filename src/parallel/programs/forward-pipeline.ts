import { dispose, tidy } from '../../core/scope.js';
import { readLoss } from '../../learn/trainer.js';
import { toWire } from '../wire.js';
import type { ActMessage, StageContext } from '../stage-context.js';
import type { PipelineRequest } from './pipeline-request.js';
import { nextInput } from './stage-input.js';

/**
 * A forward pipeline (tpSGD): each batch passes this stage's segments, each taking its local step, then moves on
 * with its labels. Returns this stage's summed local loss per step.
 */
export async function trainForwardPipeline(ctx: StageContext, r: PipelineRequest): Promise<number[]> {
  const p = ctx.parallelism('forward-pipeline');
  const losses: number[] = [];
  for (const lr of r.lrs) {
    ctx.rule.setLr(lr);
    const { x, y, labels } = await nextInput(ctx);
    const { out, loss } = tidy(() => p.train(x, y, r.first, r.end));
    dispose([x, y]);
    losses.push(await readLoss(loss));
    if (out) {
      const msg = await toWire(out);
      out.dispose();
      await ctx
        .next()
        .send('act', { x: msg, y: labels, share: 1 } satisfies ActMessage, [
          msg.data.buffer as ArrayBuffer,
          labels.buffer as ArrayBuffer,
        ]);
    }
  }
  return losses;
}
