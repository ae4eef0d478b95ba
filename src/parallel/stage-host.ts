// the stage worker imports only this file: register the backends here, not through the public entry
import '../backend/builtin.js';
import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/select.js';
import type { Tensor } from '../core/tensor.js';
import { dispose, keep, liveTensors, tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { add, mul, tensor } from '../ops/index.js';
import { crossEntropyLoss } from '../learn/losses.js';
import { BatchIterator, toTensors, type Batch, type BatchCursor, type Normalization } from '../data/batches.js';
import type { ImageDataset } from '../data/dataset.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import { readLoss } from '../learn/trainer.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import type { GroupState } from '../learn/group-state.js';
import { TpSgd } from '../learn/tpsgd.js';
import { Backprop } from '../learn/backprop.js';
import type { Sequential } from '../nn/sequential.js';
import { NoPropBase } from '../learn/noprop/base.js';
import { Channel, type PortLike } from './channel.js';
import { fromRule, type Explainable, type GradientRule } from '../explain/model.js';
import { fromWire, toWire, type WireTensor } from './wire.js';
import { FrozenSession, type FrozenOptions } from './frozen-session.js';

export interface StageInit {
  rule: RuleConfig;
  backend?: string;
  /** Names the stage in errors ('stage 1: block3, block4'). */
  label: string;
}

export interface StageStats {
  backend: string;
  /** Payload bytes this stage sent to other stages. */
  bytesSent: number;
  /** The most tensor memory this stage's backend held at once. */
  peakTensorBytes: number;
  /** Milliseconds this stage waited on its neighbours (input not yet there, or no credit to send). */
  waitMs: number;
  /** Tensors alive in this worker now (constant from step to step, or something leaks). */
  liveTensors: number;
}

/** A pipeline stage's share: segments [first, end) of a tpSGD or backprop model. */
export interface PipelineRequest {
  first: number;
  end: number;
  /** The learning rate of each step of this run (its length is the number of steps). */
  lrs: number[];
  /** Backprop: micro-batches per batch (GPipe); tpSGD passes whole batches. */
  microBatches: number;
}

interface ActMessage {
  x: WireTensor;
  y: Int32Array;
  share: number;
}

/**
 * What a stage worker hosts: a learning rule built from its config on the worker's own backend, the data
 * it reads (NoProp workers and a pipeline's first stage iterate the same seeded batches as a one-thread run),
 * and direct ports to its neighbours. The coordinator drives it over comlink.
 */
export class StageHost {
  private rule: LearningRule | null = null;
  private config: RuleConfig | null = null;
  private backend: Backend | null = null;
  private label = 'stage';
  private batches: BatchIterator | null = null;
  private prev: Channel | null = null;
  private next: Channel | null = null;
  private bytesSentBefore = 0;
  private waitMsBefore = 0;
  private frozen: FrozenSession | null = null;
  private explained: { rule: LearningRule; ex: Explainable } | null = null;

  async init(c: StageInit): Promise<{ backend: string; groups: string[] }> {
    this.label = c.label;
    this.rule?.dispose();
    (this.backend as { destroy?: () => void } | null)?.destroy?.(); // a WebGPU device is not left behind
    this.backend = await createBackend(c.backend ?? 'wasm');
    this.rule = createRule(c.rule, this.backend);
    this.config = c.rule;
    this.backend.resetPeak();
    return { backend: this.backend.flavour, groups: this.rule.groups().map((g) => g.name) };
  }

  /** The training images this stage reads, and the batch order (seed, or a cursor to resume from). */
  setData(
    ds: ImageDataset,
    o: { batchSize: number; seed: number; cursor?: BatchCursor; normalization?: Normalization },
  ): void {
    this.batches = new BatchIterator(ds, o);
  }

  cursor(): BatchCursor {
    return this.needBatches().getCursor();
  }

  /** NoProp: the named groups learn from the next `lrs.length` batches; returns the summed loss per step. */
  async trainGroups(groups: string[], lrs: number[]): Promise<number[]> {
    const rule = this.needRule();
    if (!(rule instanceof NoPropBase))
      fail(
        'INVALID_ARGUMENT',
        `${this.label}: ${rule.name} has no independent groups`,
        'train tpsgd and backprop with a pipeline',
      );
    const it = this.needBatches();
    const losses: number[] = [];
    for (const lr of lrs) {
      rule.setLr(lr);
      const b = it.next();
      losses.push(
        await readLoss(
          tidy(() => {
            const { x, y } = toTensors(b, this.backend!);
            return groups.map((g) => rule.trainGroup(g, x, y)).reduce((a, l) => add(a, l));
          }),
        ),
      );
    }
    return losses;
  }

  connect(ports: { prev: PortLike | null; next: PortLike | null }): void {
    this.prev?.close();
    this.next?.close();
    this.bytesSentBefore += (this.prev?.bytesSent ?? 0) + (this.next?.bytesSent ?? 0);
    this.waitMsBefore += (this.prev?.waitMs ?? 0) + (this.next?.waitMs ?? 0);
    this.prev = ports.prev ? new Channel(ports.prev) : null;
    this.next = ports.next ? new Channel(ports.next) : null;
  }

  /** Fails whatever this stage is waiting for (a neighbour died); the coordinator restores and replays. */
  abort(): void {
    this.prev?.abort();
    this.next?.abort();
  }

  /** tpSGD: each batch passes this stage's segments, each taking its local step, then moves on with its labels. */
  async trainTpsgd(r: PipelineRequest): Promise<number[]> {
    const rule = this.needRule();
    if (!(rule instanceof TpSgd))
      fail(
        'INVALID_ARGUMENT',
        `${this.label}: the tpSGD pipeline needs a tpsgd rule, not ${rule.name}`,
        'build the stage from a tpsgd config',
      );
    const losses: number[] = [];
    for (const lr of r.lrs) {
      rule.setLr(lr);
      const { x, y, labels } = await this.input();
      const { out, loss } = tidy(() => rule.trainSegments(x, y, r.first, r.end));
      dispose([x, y]);
      losses.push(await readLoss(loss));
      if (out) {
        const msg = await toWire(out);
        out.dispose();
        await this.needNext().send('act', { x: msg, y: labels, share: 1 } satisfies ActMessage, [
          msg.data.buffer as ArrayBuffer,
          labels.buffer as ArrayBuffer,
        ]);
      }
    }
    return losses;
  }

  /**
   * Backprop, GPipe style: a batch is cut into micro-batches; they flow forward through every stage, the last
   * stage starts the error of each, and the errors flow back; every stage sums its micro-batch gradients and
   * takes one optimizer step per batch. Returns the batch loss per step.
   */
  async trainBackprop(r: PipelineRequest): Promise<number[]> {
    const rule = this.needRule();
    if (!(rule instanceof Backprop))
      fail(
        'INVALID_ARGUMENT',
        `${this.label}: the backprop pipeline needs a backprop rule, not ${rule.name}`,
        'build the stage from a backprop config',
      );
    const from = rule.segments[r.first].from,
      to = rule.segments[r.end - 1].to;
    const isFirst = r.first === 0,
      isLast = r.end === rule.segments.length;
    const losses: number[] = [];
    for (const lr of r.lrs) {
      rule.setLr(lr);
      const micro = isFirst ? this.microBatches(r.microBatches) : null;
      const kept: { fwd: { y: Tensor; caches: unknown }; input: Tensor }[] = [];
      let grads: Record<string, Tensor> = {};
      let loss: Tensor | null = null;
      const accumulate = (g: Record<string, Tensor>) => {
        if (Object.keys(grads).length === 0) {
          grads = g;
          return;
        }
        const sum = tidy(() => Object.fromEntries(Object.entries(g).map(([k, t]) => [k, add(grads[k], t)])));
        dispose([grads, g]);
        grads = sum;
      };
      const nMicro = micro ? micro.length : null;
      for (let m = 0; nMicro === null || m < nMicro; m++) {
        let x: Tensor, y: Tensor, labels: Int32Array, share: number;
        if (micro) ({ x, y, labels, share } = micro[m]);
        else {
          const msg = await this.needPrev().receive<ActMessage | null>('act');
          if (!msg) break; // the end of this batch's micro-batches
          x = fromWire(msg.x, this.backend!);
          y = tensor(msg.y, [msg.y.length], 'int32', this.backend!);
          labels = msg.y;
          share = msg.share;
        }
        const fwd = tidy(() => rule.model.forwardWithCache(x, { training: true, rng: rule.rng }, from, to));
        if (isLast) {
          const { dx, g, l } = tidy(() => {
            const ce = crossEntropyLoss(fwd.y, y);
            const back = rule.model.backwardWithCache(mul(ce.grad, share), fwd.caches, from, to, !isFirst);
            return { dx: back.dx, g: back.grads, l: mul(ce.loss, share) };
          });
          if (loss) {
            const sum = add(loss, l);
            dispose([loss, l]);
            loss = sum;
          } else loss = l;
          accumulate(g);
          dispose([fwd, x, y]);
          if (dx) await this.sendBack(dx, isFirst);
        } else {
          const w = await toWire(fwd.y),
            sent = Int32Array.from(labels);
          await this.needNext().send('act', { x: w, y: sent, share } satisfies ActMessage, [
            w.data.buffer as ArrayBuffer,
            sent.buffer,
          ]);
          y.dispose();
          kept.push({ fwd, input: x });
        }
      }
      if (!isLast) {
        await this.needNext().send('act', null);
        for (const k of kept) {
          const dy = fromWire(await this.needNext().receive<WireTensor>('grad'), this.backend!);
          const back = tidy(() => rule.model.backwardWithCache(dy, k.fwd.caches as never, from, to, !isFirst));
          dispose([dy, k.fwd, k.input]);
          accumulate(back.grads);
          if (back.dx) await this.sendBack(back.dx, isFirst);
        }
      }
      tidy(() => rule.stepSegments(r.first, r.end, grads));
      dispose(grads);
      losses.push(loss ? await readLoss(loss) : 0);
    }
    return losses;
  }

  /**
   * Inference: `count` micro-batches arrive from the previous stage (or the coordinator), pass layers [from, to), and
   * move on.
   */
  async predict(from: number, to: number, count: number): Promise<void> {
    const rule = this.needRule();
    const model =
      (rule as { model?: Sequential }).model ??
      fail(
        'INVALID_ARGUMENT',
        `${this.label}: ${rule.name} has no layer model to pipeline`,
        'pipeline a backprop or tpsgd model',
      );
    for (let i = 0; i < count; i++) {
      const x = fromWire(await this.needPrev().receive<WireTensor>('act'), this.backend!);
      const y = tidy(() => model.forwardWithCache(x, { training: false }, from, to).y);
      const w = await toWire(y);
      dispose([x, y]);
      await this.needNext().send('act', w, [w.data.buffer as ArrayBuffer]);
    }
  }

  /** Explanations spread over workers: this replica's class scores for a share of a batch. */
  async explainScores(x: Float32Array, batch: number): Promise<Float32Array> {
    return this.explainable().scores(x, batch);
  }

  /** …and its input gradients (plain or guided) for that share. */
  async explainGradients(
    x: Float32Array,
    batch: number,
    targets: Int32Array,
    rule: GradientRule,
  ): Promise<Float32Array> {
    const m = this.explainable();
    return m.gradients
      ? m.gradients(x, batch, targets, rule)
      : fail('INVALID_ARGUMENT', `${this.label}: this model has no gradients`, 'use a perturbation method');
  }

  /** The rule as an Explainable, made once per rule (weights loaded later are seen: they are the same tensors). */
  private explainable(): Explainable {
    const rule = this.needRule(),
      c = this.config!;
    if (this.explained?.rule !== rule) this.explained = { rule, ex: fromRule(rule, c.inputShape, c.classes) };
    return this.explained.ex;
  }

  /** Holds an ONNX model in onnxruntime as this stage's frozen feature extractor (replacing one held before). */
  async loadFrozen(bytes: Uint8Array, o: FrozenOptions = {}): Promise<void> {
    await this.frozen?.release();
    this.frozen = null;
    this.frozen = await FrozenSession.open(bytes, o);
  }

  /** The frozen model's output for a batch [N, ...sample]. */
  async runFrozen(x: Float32Array, shape: number[]): Promise<{ data: Float32Array; shape: number[] }> {
    const f = this.frozen ?? fail('INVALID_ARGUMENT', `${this.label} holds no frozen model`, 'call loadFrozen first');
    return f.run(x, shape);
  }

  /** Fault injection: destroys this stage's WebGPU device (its `lost` promise fires), as a GPU reset would. */
  loseDevice(): boolean {
    const b = this.backend as { destroy?: () => void } | null;
    if (!b?.destroy) return false;
    b.destroy();
    return true;
  }

  async saveGroups(names: string[]): Promise<Record<string, GroupState>> {
    return saveGroups(this.needRule(), names);
  }

  loadGroups(states: Record<string, GroupState>): void {
    const rule = this.needRule();
    for (const [n, s] of Object.entries(states)) rule.loadGroup(n, s);
  }

  stats(): StageStats {
    const b = this.backend ?? fail('INVALID_ARGUMENT', `${this.label} used before init`, 'call init first');
    return {
      backend: b.flavour,
      bytesSent: this.bytesSentBefore + (this.prev?.bytesSent ?? 0) + (this.next?.bytesSent ?? 0),
      peakTensorBytes: b.memory().peakBytesInUse,
      waitMs: this.waitMsBefore + (this.prev?.waitMs ?? 0) + (this.next?.waitMs ?? 0),
      liveTensors: liveTensors(),
    };
  }

  /** Sends an input gradient to the previous stage (the first stage has none to send it to) and frees it. */
  private async sendBack(dx: Tensor, isFirst: boolean): Promise<void> {
    const w = isFirst ? null : await toWire(dx);
    dx.dispose();
    if (w) await this.needPrev().send('grad', w, [w.data.buffer as ArrayBuffer]);
  }

  /** The next batch: read from the data (first stage) or received with its labels from the previous stage. */
  private async input(): Promise<{ x: Tensor; y: Tensor; labels: Int32Array }> {
    if (this.batches) {
      const b = this.batches.next();
      return { ...toTensors(b, this.backend!), labels: Int32Array.from(b.y) };
    }
    const msg = await this.needPrev().receive<ActMessage>('act');
    return {
      x: fromWire(msg.x, this.backend!),
      y: tensor(msg.y, [msg.y.length], 'int32', this.backend!),
      labels: msg.y,
    };
  }

  private microBatches(n: number): { x: Tensor; y: Tensor; labels: Int32Array; share: number }[] {
    const b: Batch = this.needBatches().next();
    const B = b.y.length,
      per = b.x.length / B,
      parts = Math.max(1, Math.min(n, B));
    const out = [];
    for (let m = 0; m < parts; m++) {
      const s = Math.floor((m * B) / parts),
        e = Math.floor(((m + 1) * B) / parts);
      out.push({
        x: keep(tensor(b.x.slice(s * per, e * per), [e - s, ...b.shape.slice(1)], 'float32', this.backend!)),
        y: keep(tensor(b.y.slice(s, e), [e - s], 'int32', this.backend!)),
        labels: b.y.slice(s, e),
        share: (e - s) / B,
      });
    }
    return out;
  }

  private needRule(): LearningRule {
    return this.rule ?? fail('INVALID_ARGUMENT', `${this.label} used before init`, 'call init first');
  }
  private needBatches(): BatchIterator {
    return this.batches ?? fail('INVALID_ARGUMENT', `${this.label} has no data`, 'call setData first');
  }
  private needPrev(): Channel {
    return this.prev ?? fail('INVALID_ARGUMENT', `${this.label} has no previous stage`, 'connect the pipeline first');
  }
  private needNext(): Channel {
    return this.next ?? fail('INVALID_ARGUMENT', `${this.label} has no next stage`, 'connect the pipeline first');
  }
}
