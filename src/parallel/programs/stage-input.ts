import { keep } from '../../core/scope.js';
import { tensor } from '../../ops/index.js';
import { toTensors, type Batch } from '../../data/batches.js';
import { fromWire } from '../wire.js';
import type { ActMessage, StageBatch, StageContext } from '../stage-context.js';

/** The next batch: read from the data (the first stage) or received with its labels from the previous stage. */
export async function nextInput(ctx: StageContext): Promise<StageBatch> {
  if (ctx.holdsData()) {
    const b = ctx.batches().next();
    return { ...toTensors(b, ctx.backend), labels: Int32Array.from(b.y), share: 1 };
  }
  const msg = await ctx.prev().receive<ActMessage>('act');
  return fromMessage(ctx, msg);
}

/** A received activation as tensors on this stage's backend. */
export function fromMessage(ctx: StageContext, msg: ActMessage): StageBatch {
  return {
    x: fromWire(msg.x, ctx.backend),
    y: tensor(msg.y, [msg.y.length], 'int32', ctx.backend),
    labels: msg.y,
    share: msg.share,
  };
}

/** The next batch of the data cut into `n` micro-batches (at most one per sample), each with its share. */
export function microBatches(ctx: StageContext, n: number): StageBatch[] {
  const b: Batch = ctx.batches().next();
  const B = b.y.length,
    per = b.x.length / B,
    parts = Math.max(1, Math.min(n, B));
  const out: StageBatch[] = [];
  for (let m = 0; m < parts; m++) {
    const s = Math.floor((m * B) / parts),
      e = Math.floor(((m + 1) * B) / parts);
    out.push({
      x: keep(tensor(b.x.slice(s * per, e * per), [e - s, ...b.shape.slice(1)], 'float32', ctx.backend)),
      y: keep(tensor(b.y.slice(s, e), [e - s], 'int32', ctx.backend)),
      labels: b.y.slice(s, e),
      share: (e - s) / B,
    });
  }
  return out;
}
