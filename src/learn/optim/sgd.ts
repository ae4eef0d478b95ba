import type { Tensor } from '../../core/tensor.js';
import { runKernel } from '../../backend/engine.js';
import type { Optimizer } from './optimizer.js';
import { SlotState } from './state.js';

/** SGD with heavy-ball momentum: v ← μv + (g + λθ); θ ← θ − η v (one fused in-place kernel per parameter). */
export class Sgd implements Optimizer {
  steps = 0;
  private state = new SlotState();

  constructor(
    public lr: number,
    private momentum = 0,
    private weightDecay = 0,
  ) {}

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    for (const [name, p] of params) {
      const g = grads[name];
      if (!g) continue;
      const state = this.momentum ? [this.state.get('velocity', name, p)] : [];
      runKernel('OptimizerStep', [p, g, ...state], {
        kind: 'sgd',
        lr: this.lr,
        momentum: this.momentum,
        weightDecay: this.weightDecay,
      });
    }
    this.steps++;
  }

  stateTensors() {
    return this.state.all();
  }
  restore(steps: number, slots: Readonly<Record<string, { data: Float32Array }>>, params: ReadonlyMap<string, Tensor>) {
    this.state.load(slots, params);
    this.steps = steps;
  }
  dispose() {
    this.state.dispose();
  }
}
