import { tidy } from '../../core/scope.js';
import { toTensors } from '../../data/batches.js';
import { readLoss } from '../../learn/trainer.js';
import type { StageContext } from '../stage-context.js';

/**
 * Independent groups (NoProp's blocks and head): groups `indices` learn from the next `lrs.length` batches of this
 * worker's own copy of the seeded data, with no traffic to other workers. Returns their summed loss per step.
 */
export async function trainIndependent(
  ctx: StageContext,
  indices: readonly number[],
  lrs: number[],
): Promise<number[]> {
  const p = ctx.parallelism('independent');
  const it = ctx.batches();
  const losses: number[] = [];
  for (const lr of lrs) {
    ctx.rule.setLr(lr);
    const b = it.next();
    losses.push(
      await readLoss(
        tidy(() => {
          const { x, y } = toTensors(b, ctx.backend);
          return p.train(indices, x, y);
        }),
      ),
    );
  }
  return losses;
}
