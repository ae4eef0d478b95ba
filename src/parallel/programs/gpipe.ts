import type { Tensor } from '../../core/tensor.js';
import { dispose, tidy } from '../../core/scope.js';
import { add } from '../../ops/index.js';
import { readLoss } from '../../learn/trainer.js';
import type { RangeForward } from '../../learn/parallelism.js';
import { fromWire, toWire, type WireTensor } from '../wire.js';
import type { ActMessage, StageBatch, StageContext } from '../stage-context.js';
import type { PipelineRequest } from './pipeline-request.js';
import { fromMessage, microBatches } from './stage-input.js';

/**
 * GPipe (backprop): a batch is cut into micro-batches; they flow forward through every stage, the last stage starts
 * the error of each, and the errors flow back; every stage sums its micro-batch gradients and takes one optimizer
 * step per batch. Returns the batch loss per step (0 on stages other than the last).
 */
export async function trainGPipe(ctx: StageContext, r: PipelineRequest): Promise<number[]> {
  const p = ctx.parallelism('gpipe');
  const isFirst = r.first === 0,
    isLast = r.end === p.segments;
  const losses: number[] = [];
  for (const lr of r.lrs) {
    ctx.rule.setLr(lr);
    const micro = isFirst ? microBatches(ctx, r.microBatches) : null;
    const kept: { fwd: RangeForward; input: Tensor }[] = [];
    const sum = new GradientSum();
    let loss: Tensor | null = null;
    for (let m = 0; micro === null || m < micro.length; m++) {
      let input: StageBatch;
      if (micro) input = micro[m];
      else {
        const msg = await ctx.prev().receive<ActMessage | null>('act');
        if (!msg) break; // the end of this batch's micro-batches
        input = fromMessage(ctx, msg);
      }
      const { x, y, labels, share } = input;
      const fwd = p.forwardTrain(x, r.first, r.end);
      if (isLast) {
        const l = p.loss(fwd.y, y, share);
        const back = p.backward(l.grad, fwd, r.first, r.end, !isFirst);
        dispose([l.grad, x, y]);
        fwd.dispose();
        if (loss) {
          const total = add(loss, l.loss);
          dispose([loss, l.loss]);
          loss = total;
        } else loss = l.loss;
        sum.add(back.grads);
        if (back.dx) await sendBack(ctx, back.dx, isFirst);
      } else {
        const w = await toWire(fwd.y),
          sent = Int32Array.from(labels);
        await ctx
          .next()
          .send('act', { x: w, y: sent, share } satisfies ActMessage, [w.data.buffer as ArrayBuffer, sent.buffer]);
        y.dispose();
        kept.push({ fwd, input: x });
      }
    }
    if (!isLast) {
      await ctx.next().send('act', null);
      for (const k of kept) {
        const dy = fromWire(await ctx.next().receive<WireTensor>('grad'), ctx.backend);
        const back = p.backward(dy, k.fwd, r.first, r.end, !isFirst);
        dy.dispose();
        k.fwd.dispose();
        k.input.dispose();
        sum.add(back.grads);
        if (back.dx) await sendBack(ctx, back.dx, isFirst);
      }
    }
    p.step(r.first, r.end, sum.grads);
    sum.dispose();
    losses.push(loss ? await readLoss(loss) : 0);
  }
  return losses;
}

/** The gradients of a batch's micro-batches, summed as they arrive. */
class GradientSum {
  grads: Record<string, Tensor> = {};
  add(g: Record<string, Tensor>): void {
    if (Object.keys(this.grads).length === 0) {
      this.grads = g;
      return;
    }
    const total = tidy(() => Object.fromEntries(Object.entries(g).map(([k, t]) => [k, add(this.grads[k], t)])));
    dispose([this.grads, g]);
    this.grads = total;
  }
  dispose(): void {
    dispose(this.grads);
    this.grads = {};
  }
}

/** Sends an input gradient to the previous stage (the first stage has none to send it to) and frees it. */
async function sendBack(ctx: StageContext, dx: Tensor, isFirst: boolean): Promise<void> {
  const w = isFirst ? null : await toWire(dx);
  dx.dispose();
  if (w) await ctx.prev().send('grad', w, [w.data.buffer as ArrayBuffer]);
}
