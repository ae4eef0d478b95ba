import type { Tensor } from '../../core/tensor.js';
import { runKernel } from '../../backend/engine.js';
import type { Optimizer } from './optimizer.js';
import { SlotState } from './state.js';

/**
 * Adam (Kingma & Ba) with bias correction: θ ← θ − η·m̂/(√v̂ + ε). `decoupled` makes it AdamW (Loshchilov &
 * Hutter): the weights decay by η·λ·θ apart from the adaptive step, instead of λθ being added to the
 * gradient. One fused in-place kernel per parameter.
 */
export class Adam implements Optimizer {
  steps = 0;
  private state = new SlotState();

  constructor(
    public lr: number,
    private opts: { beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number; decoupled?: boolean } = {},
  ) {}

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0, decoupled = false } = this.opts;
    const step = ++this.steps;
    for (const [name, p] of params) {
      const g = grads[name];
      if (!g) continue;
      runKernel('OptimizerStep', [p, g, this.state.get('m', name, p), this.state.get('v', name, p)], {
        kind: 'adam',
        lr: this.lr,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        decoupled,
        step,
      });
    }
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
