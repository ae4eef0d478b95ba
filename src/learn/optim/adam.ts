import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/scope.js';
import { add, assign, div, mul, sqrt, square, sub } from '../../ops/index.js';
import type { Optimizer } from './optimizer.js';
import { SlotState } from './state.js';

/**
 * Adam (Kingma & Ba) with bias correction. `decoupled` makes it AdamW (Loshchilov & Hutter): the weights
 * decay by η·λ·θ apart from the adaptive step, instead of λθ being added to the gradient.
 */
export class Adam implements Optimizer {
  steps = 0;
  private state = new SlotState();

  constructor(public lr: number, private opts: { beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number; decoupled?: boolean } = {}) {}

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0, decoupled = false } = this.opts;
    const t = ++this.steps;
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    tidy(() => {
      for (const [name, p] of params) {
        const g0 = grads[name];
        if (!g0) continue;
        const g = weightDecay && !decoupled ? add(g0, mul(p, weightDecay)) : g0;
        const m = this.state.get('m', name, p), v = this.state.get('v', name, p);
        assign(m, add(mul(m, beta1), mul(g, 1 - beta1)));
        assign(v, add(mul(v, beta2), mul(square(g), 1 - beta2)));
        // θ ← θ − η · m̂ / (√v̂ + ε), with m̂ = m/c1 and v̂ = v/c2 folded into the scalars
        const update = div(mul(m, this.lr / c1), add(sqrt(mul(v, 1 / c2)), epsilon));
        const decayed = weightDecay && decoupled ? mul(p, 1 - this.lr * weightDecay) : p;
        assign(p, sub(decayed, update));
      }
    });
  }

  stateTensors() { return this.state.all(); }
  dispose() { this.state.dispose(); }
}
