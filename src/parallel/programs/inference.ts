import { dispose } from '../../core/scope.js';
import { fromWire, toWire, type WireTensor } from '../wire.js';
import type { StageContext } from '../stage-context.js';

/**
 * Pipelined inference: `count` micro-batches arrive from the previous stage (or the coordinator), pass segments
 * [first, end) of the rule's chain, and move on.
 */
export async function predictRange(ctx: StageContext, first: number, end: number, count: number): Promise<void> {
  const chain = ctx.chain();
  for (let i = 0; i < count; i++) {
    const x = fromWire(await ctx.prev().receive<WireTensor>('act'), ctx.backend);
    const y = chain.forward(x, first, end);
    const w = await toWire(y);
    dispose([x, y]);
    await ctx.next().send('act', w, [w.data.buffer as ArrayBuffer]);
  }
}
