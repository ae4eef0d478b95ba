import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { dispose, tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { crossEntropy, crossEntropyGrad, mul } from '../ops/index.js';
import { crossEntropyLoss } from './losses.js';
import type { Sequential } from '../nn/sequential.js';
import type { Rng } from '../core/rng.js';
import type { Optimizer } from './optim/index.js';
import type { LearningRule, ParamGroup, StepResult } from './rule.js';
import { loadGroupState, saveGroupState, type GroupState } from './group-state.js';
import type { Cache } from '../nn/layer.js';
import type { GPipe, RangeForward } from './parallelism.js';
import {
  checkFrozen,
  frozenForward,
  layersOf,
  paramsInRange,
  segmentForward,
  segmentsOf,
  stateInRange,
  trainedFrom,
  type Segment,
} from './segments.js';

export interface BackpropOptions {
  /**
   * Layers [0, frozenLayers) keep their parameters and batch-norm statistics: they run as in inference, and the
   * error stops at the first trained layer (default 0; `checkFrozen` says which counts are allowed).
   */
  frozenLayers?: number;
}

/**
 * Ordinary end-to-end backpropagation of the mean cross-entropy: the baseline every claim is compared with.
 * The model is cut into the same segments as tpSGD's, each with its own optimizer (the update of a
 * parameter is the same as with one optimizer over all), so a pipeline stage can own a run of segments.
 */
export class Backprop implements LearningRule {
  readonly name = 'backprop';
  readonly backend: Backend;
  /** Each segment with its optimizer and `trainFrom`, its first trained layer (`to`: a frozen segment). */
  readonly segments: (Segment & { optimizer: Optimizer; trainFrom: number })[];
  readonly frozenLayers: number;

  constructor(
    readonly model: Sequential,
    makeOptimizer: () => Optimizer,
    readonly rng: Rng,
    opts: BackpropOptions = {},
  ) {
    this.backend = model.backend;
    this.frozenLayers = opts.frozenLayers ?? 0;
    checkFrozen(model, this.frozenLayers);
    this.segments = segmentsOf(model).map((s) => ({
      ...s,
      optimizer: makeOptimizer(),
      trainFrom: trainedFrom(model, s, this.frozenLayers),
    }));
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    return tidy(() => {
      const frozen = this.frozenLayers,
        end = this.model.layers.length;
      const { y: logits, caches } = frozen
        ? frozenForward(this.model, x, this.rng, 0, end, frozen)
        : this.model.forward(x, { training: true, rng: this.rng });
      const loss = crossEntropy(logits, y);
      // the error goes back to the first trained layer only
      const { grads } = this.model.backwardWithCache(
        crossEntropyGrad(logits, y),
        caches.slice(frozen),
        frozen,
        end,
        false,
      );
      this.stepSegments(0, this.segments.length, grads);
      return { loss };
    });
  }

  /** Segments [first, end) take an optimizer step from gradients keyed like namedParams (frozen layers take none). */
  stepSegments(first: number, end: number, grads: Readonly<Record<string, Tensor>>): void {
    for (const s of this.segments.slice(first, end))
      if (s.trainFrom < s.to) s.optimizer.step(paramsInRange(this.model, s.trainFrom, s.to), grads);
  }

  predict(x: Tensor): Tensor {
    return this.model.predict(x);
  }
  params() {
    return this.model.namedParams();
  }
  buffers() {
    return this.model.namedBuffers();
  }
  setLr(lr: number) {
    for (const s of this.segments) s.optimizer.lr = lr;
  }

  /** GPipe over the segments: forward and backward over a range of them, the loss at the end, a step per batch. */
  parallelism(): GPipe {
    const model = this.model;
    return {
      kind: 'gpipe',
      segments: this.segments.length,
      forward: (h, first, end) => segmentForward(model, this.segments, h, first, end),
      forwardTrain: (h, first, end) => {
        const f = tidy(() =>
          frozenForward(model, h, this.rng, ...layersOf(this.segments, first, end), this.frozenLayers),
        );
        return { y: f.y, caches: f.caches, dispose: () => dispose(f) } satisfies Kept;
      },
      loss: (out, y, share) =>
        tidy(() => {
          const ce = crossEntropyLoss(out, y);
          return { loss: mul(ce.loss, share), grad: mul(ce.grad, share) };
        }),
      backward: (dy, fwd, first, end, needDx) =>
        tidy(() => {
          const [from, to] = layersOf(this.segments, first, end);
          // without an error to pass on, the backward pass stops at the first trained layer; with one, it goes
          // through the frozen layers too (the stage before waits for it), and their gradients are left out (tidy
          // frees them)
          const stop = needDx ? from : Math.max(from, this.frozenLayers);
          if (stop >= to) return { dx: null, grads: {} };
          const b = model.backwardWithCache(dy, (fwd as Kept).caches.slice(stop - from), stop, to, needDx);
          const grads = Object.entries(b.grads).filter(([k]) => Number(k.split('.')[0]) >= this.frozenLayers);
          return { dx: b.dx ?? null, grads: Object.fromEntries(grads) };
        }),
      step: (first, end, grads) => tidy(() => this.stepSegments(first, end, grads)),
    };
  }

  /** A segment reads the one before it and waits for the error of the one after it: the backward chain. */
  groups(): ParamGroup[] {
    return this.segments.map((s, i, all) => ({
      name: s.name,
      params: [...paramsInRange(this.model, s.from, s.to).keys()],
      reads: [i === 0 ? 'x' : `output:${all[i - 1].name}`, ...(i === all.length - 1 ? ['y'] : [])],
      waitsFor: i === all.length - 1 ? [] : [all[i + 1].name],
    }));
  }

  private segment(name: string) {
    return (
      this.segments.find((s) => s.name === name) ??
      fail(
        'INVALID_ARGUMENT',
        `backprop has no group '${name}'`,
        `use one of: ${this.segments.map((s) => s.name).join(', ')}`,
      )
    );
  }

  saveGroup(name: string): Promise<GroupState> {
    const s = this.segment(name);
    return saveGroupState(stateInRange(this.model, s.from, s.to), s.optimizer, this.rng);
  }

  loadGroup(name: string, state: GroupState): void {
    const s = this.segment(name);
    loadGroupState(name, state, stateInRange(this.model, s.from, s.to), s.optimizer, this.rng);
  }

  dispose(): void {
    for (const s of this.segments) s.optimizer.dispose();
  }
}

/** A range's training forward pass: the layer caches its backward pass reads. */
interface Kept extends RangeForward {
  caches: Cache[];
}
