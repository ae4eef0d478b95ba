import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../backend/backend.js';
import { tidy } from '../core/scope.js';
import { crossEntropy, crossEntropyGrad } from '../ops/index.js';
import type { Sequential } from '../nn/sequential.js';
import type { Rng } from '../core/rng.js';
import type { Optimizer } from './optim/index.js';
import type { LearningRule, ParamGroup, StepResult } from './rule.js';

/** Ordinary end-to-end backpropagation of the mean cross-entropy: the baseline every claim is compared with. */
export class Backprop implements LearningRule {
  readonly name = 'backprop';
  readonly backend: Backend;

  constructor(readonly model: Sequential, private optimizer: Optimizer, private rng: Rng) {
    this.backend = model.backend;
  }

  trainStep(x: Tensor, y: Tensor): StepResult {
    return tidy(() => {
      const { y: logits, caches } = this.model.forward(x, { training: true, rng: this.rng });
      const loss = crossEntropy(logits, y).dataSync()[0];
      const { grads } = this.model.backwardWithCache(crossEntropyGrad(logits, y), caches, 0, this.model.layers.length, false);
      this.optimizer.step(this.model.namedParams(), grads);
      return { loss };
    });
  }

  predict(x: Tensor): Tensor { return this.model.predict(x); }
  params() { return this.model.namedParams(); }
  buffers() { return this.model.namedBuffers(); }
  setLr(lr: number) { this.optimizer.lr = lr; }

  /** One group: every update waits for the error to travel back from the loss through every layer. */
  groups(): ParamGroup[] {
    return [{ name: 'model', params: [...this.model.namedParams().keys()], reads: ['x', 'y'], waitsFor: [] }];
  }

  dispose(): void { this.optimizer.dispose(); }
}
