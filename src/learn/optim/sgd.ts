import type { Tensor } from '../../core/tensor.js';
import { tidy } from '../../core/scope.js';
import { add, assign, mul, sub } from '../../ops/index.js';
import type { Optimizer } from './optimizer.js';
import { SlotState } from './state.js';

/** SGD with heavy-ball momentum: v ← μv + (g + λθ); θ ← θ − η v. */
export class Sgd implements Optimizer {
  steps = 0;
  private state = new SlotState();

  constructor(public lr: number, private momentum = 0, private weightDecay = 0) {}

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    tidy(() => {
      for (const [name, p] of params) {
        const g0 = grads[name];
        if (!g0) continue;
        const g = this.weightDecay ? add(g0, mul(p, this.weightDecay)) : g0;
        let dir = g;
        if (this.momentum) {
          const v = this.state.get('velocity', name, p);
          assign(v, add(mul(v, this.momentum), g));
          dir = v;
        }
        assign(p, sub(p, mul(dir, this.lr)));
      }
    });
    this.steps++;
  }

  stateTensors() { return this.state.all(); }
  dispose() { this.state.dispose(); }
}
