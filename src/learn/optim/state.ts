import type { Tensor } from '../../core/tensor.js';
import { keep } from '../../core/scope.js';
import { zeros } from '../../ops/index.js';

/** Per-parameter state tensors created lazily with the parameter's shape and backend, kept outside any tidy. */
export class SlotState {
  private slots = new Map<string, Tensor>();

  get(slot: string, name: string, like: Tensor): Tensor {
    const key = `${name}/${slot}`;
    let t = this.slots.get(key);
    if (!t) {
      t = keep(zeros(like.shape, 'float32', like.backend));
      this.slots.set(key, t);
    }
    return t;
  }

  all(): Map<string, Tensor> {
    return new Map(this.slots);
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }
}
