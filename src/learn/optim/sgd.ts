import type { Tensor } from '../../core/tensor.js';
import { runKernel } from '../../backend/engine.js';
import type { Optimizer, SavedSlots } from './optimizer.js';
import { SlotState } from './state.js';
import { QuantizedState } from './quantized-state.js';
import { type EightBit, eightBitOf, readSlots, restoreSlots } from './eight-bit.js';

/**
 * SGD with heavy-ball momentum: v ← μv + (g + λθ); θ ← θ − η v (one fused in-place kernel per parameter). With
 * `eightBit` (and momentum), the velocity of every parameter of at least `minSize` values is held block-wise in 8 bits.
 */
export class Sgd implements Optimizer {
  steps = 0;
  private state = new SlotState();
  private q: QuantizedState | null;

  constructor(
    public lr: number,
    private momentum = 0,
    private weightDecay = 0,
    private eightBit?: EightBit,
  ) {
    this.q = eightBit && momentum ? new QuantizedState(eightBit.blockSize) : null;
  }

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    const attrs = { kind: 'sgd', lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay } as const;
    for (const [name, p] of params) {
      const g = grads[name];
      if (!g) continue;
      if (this.q && eightBitOf(this.eightBit, p)) {
        const vel = this.q.get('velocity', name, p);
        runKernel('OptimizerStep8bit', [p, g, vel.table, vel.codes, vel.absmax], {
          ...attrs,
          blockSize: this.q.blockSize,
        });
        continue;
      }
      const state = this.momentum ? [this.state.get('velocity', name, p)] : [];
      runKernel('OptimizerStep', [p, g, ...state], attrs);
    }
    this.steps++;
  }

  stateTensors() {
    return new Map([...this.state.all(), ...(this.q?.all() ?? [])]);
  }
  readSlots() {
    return readSlots(this.state, this.q);
  }
  restore(steps: number, slots: SavedSlots, params: ReadonlyMap<string, Tensor>) {
    restoreSlots(slots, params, this.state, this.q, this.eightBit);
    this.steps = steps;
  }
  dispose() {
    this.state.dispose();
    this.q?.dispose();
  }
}
