import type { Tensor } from '../../core/tensor.js';
import { runKernel } from '../../backend/engine.js';
import type { Optimizer, SavedSlots } from './optimizer.js';
import { SlotState } from './state.js';
import { QuantizedState } from './quantized-state.js';
import { type EightBit, eightBitOf, readSlots, restoreSlots } from './eight-bit.js';

/**
 * Adam (Kingma & Ba) with bias correction: θ ← θ − η·m̂/(√v̂ + ε). `decoupled` makes it AdamW (Loshchilov &
 * Hutter): the weights decay by η·λ·θ apart from the adaptive step, instead of λθ being added to the
 * gradient. One fused in-place kernel per parameter. With `eightBit`, m and v of every parameter of at least
 * `minSize` values are held block-wise in 8 bits (8-bit Adam, Dettmers et al.): the kernel dequantises a block,
 * updates it in f32 and requantises it.
 */
export class Adam implements Optimizer {
  steps = 0;
  private state = new SlotState();
  private q: QuantizedState | null;

  constructor(
    public lr: number,
    private opts: {
      beta1?: number;
      beta2?: number;
      epsilon?: number;
      weightDecay?: number;
      decoupled?: boolean;
      eightBit?: EightBit;
    } = {},
  ) {
    this.q = opts.eightBit ? new QuantizedState(opts.eightBit.blockSize) : null;
  }

  step(params: ReadonlyMap<string, Tensor>, grads: Readonly<Record<string, Tensor>>): void {
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0, decoupled = false } = this.opts;
    const step = ++this.steps;
    const attrs = { kind: 'adam', lr: this.lr, beta1, beta2, epsilon, weightDecay, decoupled, step } as const;
    for (const [name, p] of params) {
      const g = grads[name];
      if (!g) continue;
      if (this.q && eightBitOf(this.opts.eightBit, p)) {
        const m = this.q.get('m', name, p),
          v = this.q.get('v', name, p);
        runKernel('OptimizerStep8bit', [p, g, m.table, m.codes, m.absmax, v.table, v.codes, v.absmax], {
          ...attrs,
          blockSize: this.q.blockSize,
        });
      } else runKernel('OptimizerStep', [p, g, this.state.get('m', name, p), this.state.get('v', name, p)], attrs);
    }
  }

  stateTensors() {
    return new Map([...this.state.all(), ...(this.q?.all() ?? [])]);
  }
  readSlots() {
    return readSlots(this.state, this.q);
  }
  restore(steps: number, slots: SavedSlots, params: ReadonlyMap<string, Tensor>) {
    restoreSlots(slots, params, this.state, this.q, this.opts.eightBit);
    this.steps = steps;
  }
  dispose() {
    this.state.dispose();
    this.q?.dispose();
  }
}
