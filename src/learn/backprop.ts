import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { tidy } from '../core/scope.js';
import { fail } from '../core/errors.js';
import { crossEntropy, crossEntropyGrad } from '../ops/index.js';
import type { Sequential } from '../nn/sequential.js';
import type { Rng } from '../core/rng.js';
import type { Optimizer } from './optim/index.js';
import type { LearningRule, ParamGroup, StepResult } from './rule.js';
import { paramsInRange, stateInRange, segmentsOf, type Segment } from './segments.js';
import { loadGroupState, saveGroupState, type GroupState } from './group-state.js';

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
