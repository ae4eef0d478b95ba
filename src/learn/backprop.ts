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
import { paramsInRange, stateInRange, segmentsOf, type Segment } from './segments.js';
import { loadGroupState, saveGroupState, type GroupState } from './group-state.js';
import type { Cache } from '../nn/layer.js';
import type { GPipe, RangeForward } from './parallelism.js';
import { layersOf, segmentForward } from './segments.js';

/**
 * Ordinary end-to-end backpropagation of the mean cross-entropy: the baseline every claim is compared with.
 * The model is cut into the same segments as tpSGD's, each with its own optimizer (the update of a
 * parameter is the same as with one optimizer over all), so a pipeline stage can own a run of segments.
 */
export class Backprop implements LearningRule {
  readonly name = 'backprop';
  readonly backend: Backend;
  readonly segments: (Segment & { optimizer: Optimizer })[];

  constructor(
    readonly model: Sequential,
    makeOptimizer: () => Optimizer,
    readonly rng: Rng,
  ) {
    this.backend = model.backend;
    this.segments = segmentsOf(model).map((s) => ({ ...s, optimizer: makeOptimizer() }));
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    return tidy(() => {
      const { y: logits, caches } = this.model.forward(x, { training: true, rng: this.rng });
      const loss = crossEntropy(logits, y);
      const { grads } = this.model.backwardWithCache(
        crossEntropyGrad(logits, y),
        caches,
        0,
        this.model.layers.length,
        false,
      );
      this.stepSegments(0, this.segments.length, grads);
      return { loss };
    });
  }

  /** Segments [first, end) take an optimizer step from gradients keyed like namedParams. */
  stepSegments(first: number, end: number, grads: Readonly<Record<string, Tensor>>): void {
    for (const s of this.segments.slice(first, end)) s.optimizer.step(paramsInRange(this.model, s.from, s.to), grads);
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
          model.forwardWithCache(h, { training: true, rng: this.rng }, ...layersOf(this.segments, first, end)),
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
          const b = model.backwardWithCache(dy, (fwd as Kept).caches, ...layersOf(this.segments, first, end), needDx);
          return { dx: b.dx ?? null, grads: b.grads };
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
