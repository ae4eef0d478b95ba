import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { dispose, keep, tidy } from '../core/scope.js';
import { Rng } from '../core/rng.js';
import { add, div, gather, tensor, zeros } from '../ops/index.js';
import { crossEntropyLoss, l1Loss, l2Loss, type LossAndGrad } from './losses.js';
import type { Sequential } from '../nn/sequential.js';
import type { Optimizer } from './optim/index.js';
import type { LearningRule, ParamGroup, StepResult } from './rule.js';
import {
  checkFrozen,
  frozenForward,
  paramsInRange,
  segmentForward,
  segmentsOf,
  stateInRange,
  trainedFrom,
  type Segment,
} from './segments.js';
import type { ForwardPipeline } from './parallelism.js';
import { loadGroupState, saveGroupState, type GroupState } from './group-state.js';
import { fail } from '../core/errors.js';
import { recurrentLayerIn, trainRecurrentSegment, type RecurrentTargets } from './tpsgd-recurrent.js';

export type LocalLoss = 'l2' | 'l1' | 'drtp';
export type ProjectionKind = 'uniform' | 'rademacher' | 'normal';

export interface TpSgdOptions {
  classes: number;
  /** The hidden segments' local loss (default 'l2'). */
  loss?: LocalLoss;
  /**
   * The generator P_i are drawn from (default `Rng.stream(0, 'tpsgd/projection')`). `createRule` passes the config's
   * (see `RuleConfig.streams`). The projections are saved as buffers, but a worker builds its rule from the config
   * alone: the draw must be a function of the config.
   */
  projectionRng?: Rng;
  /** How P_i's entries are drawn (default 'uniform' on [−s, s]); 'rademacher' is ±s, 'normal' N(0, s²). */
  projection?: ProjectionKind;
  /** s above (default 1). */
  projectionScale?: number;
  /**
   * Learning-rate multipliers of the hidden segments and of the output segment (default 1, 1). Hidden 0 freezes
   * the hidden segments: they only pass batches on (no local loss computed or reported) — last-layer fine-tuning.
   */
  hiddenLrScale?: number;
  outputLrScale?: number;
  /**
   * Where the hidden target applies: the segment's output (default) or the last parametrised layer's output (before the
   * activation).
   */
  targetAt?: 'output' | 'preactivation';
  /**
   * Layers [0, frozenLayers) keep their parameters and batch-norm statistics: they run as in inference, and a segment
   * with no trained parameter only passes batches on (default 0; `checkFrozen` says which counts are allowed).
   */
  frozenLayers?: number;
  /** A recurrent layer's segment: which steps' states get the target, how much (tpsgd-recurrent.ts; default 'ramp'). */
  recurrentTargets?: RecurrentTargets;
}

interface LocalSegment extends Segment {
  /** The local loss applies to the output of layer at−1 (at = to unless the target is the pre-activation). */
  at: number;
  /**
   * Fixed random projection [classes, outputSize]: row y is the local target for label y. Absent on the output segment.
   */
  projection: Tensor | null;
  optimizer: Optimizer;
  lrScale: number;
  /** The first trained layer (after the frozen ones); `to` when the segment has no trained parameter. */
  trainFrom: number;
  /** The hidden segment's recurrent layer, trained step by step (tpsgd-recurrent.ts); -1 when it has none. */
  recurrent: number;
}

function projectionValues(kind: ProjectionKind, n: number, s: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  if (kind === 'uniform') return rng.fillUniform(v, -s, s);
  if (kind === 'normal') return rng.fillNormal(v, 0, s);
  for (let i = 0; i < n; i++) v[i] = rng.uniform() < 0.5 ? -s : s;
  return v;
}

/**
 * Target-projection SGD (Lomnitz et al. 2022, after DRTP): the model is cut after every trainable layer's
 * activations into segments; each hidden segment learns toward a fixed random projection of the one-hot
 * label, P_i·y* (a row of P_i picked by the label), with its own ℓ2 (or ℓ1/sign) loss, right after its forward.
 * The output segment learns from cross-entropy. No error travels between segments and no activation is
 * kept beyond the segment that is learning; conv targets are the projection reshaped to the output map.
 */
export class TpSgd implements LearningRule {
  readonly name = 'tpsgd';
  readonly backend: Backend;
  readonly segments: LocalSegment[] = [];
  readonly frozenLayers: number;
  private loss: LocalLoss;
  private recurrentTargets: RecurrentTargets;

  constructor(
    readonly model: Sequential,
    makeOptimizer: () => Optimizer,
    private rng: Rng,
    opts: TpSgdOptions,
  ) {
    this.backend = model.backend;
    this.loss = opts.loss ?? 'l2';
    this.frozenLayers = opts.frozenLayers ?? 0;
    this.recurrentTargets = opts.recurrentTargets ?? 'ramp';
    const k = this.recurrentTargets;
    if (typeof k === 'object' && !(Number.isInteger(k.lastSteps) && k.lastSteps >= 1))
      fail(
        'INVALID_ARGUMENT',
        `recurrentTargets.lastSteps must be a whole number ≥ 1, got ${k.lastSteps}`,
        'use 1 or more',
      );
    checkFrozen(model, this.frozenLayers);
    const prng = opts.projectionRng ?? Rng.stream(0, 'tpsgd/projection');
    const kind = opts.projection ?? 'uniform',
      scale = opts.projectionScale ?? 1;
    const segments = segmentsOf(model);
    segments.forEach(({ name, from, to }, k) => {
      const last = k === segments.length - 1;
      let at = to;
      if (!last && opts.targetAt === 'preactivation')
        while (at - 1 > from && model.layers[at - 1].params.size === 0) at--;
      const recurrent = last ? -1 : recurrentLayerIn(model, from, to);
      // a recurrent layer's target is per step: one state's width, whether it outputs the last state or all of them
      const out =
        recurrent >= 0
          ? (model.layers[recurrent].outputShape.at(-1) ?? 0)
          : model.layers[at - 1].outputShape.reduce((p, d) => p * d, 1);
      const optimizer = makeOptimizer();
      const lrScale = last ? (opts.outputLrScale ?? 1) : (opts.hiddenLrScale ?? 1);
      optimizer.lr *= lrScale;
      this.segments.push({
        name,
        from,
        to,
        at,
        optimizer,
        lrScale,
        trainFrom: trainedFrom(model, { name, from, to }, this.frozenLayers),
        recurrent,
        projection: last
          ? null
          : keep(
              tensor(
                projectionValues(kind, opts.classes * out, scale, prng),
                [opts.classes, out],
                'float32',
                this.backend,
              ),
            ),
      });
    });
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    return { loss: this.trainSegments(x, y, 0, this.segments.length).loss };
  }

  /**
   * Segments [first, end) learn from one batch in turn, each on the previous one's output: a pipeline stage's
   * share of a step. Returns the last segment's output (kept; the caller disposes it), or null when the
   * output segment was among them, and the sum of their losses.
   */
  trainSegments(x: Tensor, y: Tensor, first: number, end: number): { out: Tensor | null; loss: Tensor } {
    let h = x;
    const losses: Tensor[] = [];
    let out: Tensor | null = null;
    for (let k = first; k < end; k++) {
      const seg = this.segments[k];
      // a frozen hidden segment (hiddenLrScale 0, or no trained parameter) learns nothing: it only passes the batch
      // on, and adds no loss; layers frozen by frozenLayers run as in inference (their batch-norm statistics stay)
      const passOn = seg.projection && (seg.lrScale === 0 || seg.trainFrom === seg.to);
      const r = passOn
        ? {
            next: tidy(() => frozenForward(this.model, h, this.rng, seg.from, seg.to, this.frozenLayers).y),
            loss: null,
          }
        : tidy(() => {
            if (seg.projection && seg.recurrent >= 0) return this.trainRecurrent(seg, seg.projection, h, y);
            const ctx = { training: true, rng: this.rng };
            const at = seg.projection ? seg.at : seg.to;
            const { y: o, caches } = frozenForward(this.model, h, this.rng, seg.from, at, this.frozenLayers);
            let dy: Tensor, loss: Tensor;
            if (!seg.projection) {
              const ce = crossEntropyLoss(o, y);
              loss = ce.loss;
              dy = ce.grad;
            } else {
              ({ loss, grad: dy } = this.objective(o, gather(seg.projection, y).reshape(o.shape)));
            }
            const trained = seg.trainFrom;
            const { grads } = this.model.backwardWithCache(dy, caches.slice(trained - seg.from), trained, at, false);
            seg.optimizer.step(paramsInRange(this.model, trained, seg.to), grads);
            // the rest of the segment (the activation) has no parameters: its output is what the next segment reads
            const next = seg.projection ? (at < seg.to ? this.model.forwardWithCache(o, ctx, at, seg.to).y : o) : null;
            return { next, loss };
          });
      if (h !== x) h.dispose();
      if (r.loss) losses.push(r.loss);
      out = r.next;
      if (!out) break;
      h = out;
    }
    const loss = losses.length ? losses.reduce((a, b) => add(a, b)) : zeros([], 'float32', this.backend);
    dispose(losses.filter((l) => l !== loss));
    return { out, loss };
  }

  /** A hidden segment around a recurrent layer: local targets at its steps, no gradient through time. */
  private trainRecurrent(seg: LocalSegment, projection: Tensor, h: Tensor, y: Tensor): { next: Tensor; loss: Tensor } {
    const objective = (o: Tensor, target: Tensor) => this.objective(o, target);
    const r = trainRecurrentSegment(this.model, seg, h, y, {
      projection,
      objective,
      rng: this.rng,
      frozenLayers: this.frozenLayers,
      targets: this.recurrentTargets,
    });
    seg.optimizer.step(paramsInRange(this.model, seg.trainFrom, seg.to), r.grads);
    return { next: r.next, loss: r.loss };
  }

  /** A hidden segment's local loss against its target, and the gradient to push its output by. */
  private objective(o: Tensor, target: Tensor): LossAndGrad {
    const local = (this.loss === 'l1' ? l1Loss : l2Loss)(o, target);
    // DRTP's modulatory signal is the projected label itself: push along −P·y*, with no fixed point
    return { loss: local.loss, grad: this.loss === 'drtp' ? div(target, -o.shape[0]) : local.grad };
  }

  private segmentParams(seg: Segment): Map<string, Tensor> {
    return paramsInRange(this.model, seg.from, seg.to);
  }

  private segment(name: string): LocalSegment {
    return (
      this.segments.find((s) => s.name === name) ??
      fail(
        'INVALID_ARGUMENT',
        `tpsgd has no group '${name}'`,
        `use one of: ${this.segments.map((s) => s.name).join(', ')}`,
      )
    );
  }

  saveGroup(name: string): Promise<GroupState> {
    const seg = this.segment(name);
    return saveGroupState(stateInRange(this.model, seg.from, seg.to), seg.optimizer, this.rng);
  }

  loadGroup(name: string, state: GroupState): void {
    const seg = this.segment(name);
    loadGroupState(name, state, stateInRange(this.model, seg.from, seg.to), seg.optimizer, this.rng);
  }

  predict(x: Tensor): Tensor {
    return this.model.predict(x);
  }
  params() {
    return this.model.namedParams();
  }

  buffers() {
    const b = this.model.namedBuffers();
    for (const s of this.segments) if (s.projection) b.set(`${s.name}.projection`, s.projection);
    return b;
  }

  setLr(lr: number) {
    for (const s of this.segments) s.optimizer.lr = lr * s.lrScale;
  }

  /** A forward pipeline: each segment learns from the batch and the labels as they pass, and hands them on. */
  parallelism(): ForwardPipeline {
    return {
      kind: 'forward-pipeline',
      segments: this.segments.length,
      forward: (h, first, end) => segmentForward(this.model, this.segments, h, first, end),
      train: (h, y, first, end) => tidy(() => this.trainSegments(h, y, first, end)),
    };
  }

  /** Each segment reads the previous segment's output and the label; none waits for another's error. */
  groups(): ParamGroup[] {
    return this.segments.map((s, i) => ({
      name: s.name,
      params: [...this.segmentParams(s).keys()],
      reads: [i === 0 ? 'x' : `output:${this.segments[i - 1].name}`, 'y'],
      waitsFor: [],
    }));
  }

  dispose(): void {
    for (const s of this.segments) {
      s.optimizer.dispose();
      s.projection?.dispose();
    }
  }
}
