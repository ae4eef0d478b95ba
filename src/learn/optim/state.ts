import type { Tensor } from '../../core/tensor.js';
import { keep } from '../../core/scope.js';
import { tensor, zeros } from '../../ops/index.js';
import { fail } from '../../core/errors.js';

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

  /** Replaces every slot with saved values (keys `param/slot`, as `all()` names them). */
  load(saved: Readonly<Record<string, { data: Float32Array }>>, params: ReadonlyMap<string, Tensor>): void {
    const next = new Map<string, Tensor>();
    for (const [key, v] of Object.entries(saved)) {
      const like = params.get(key.slice(0, key.lastIndexOf('/')));
      if (!like || like.size !== v.data.length) {
        for (const t of next.values()) t.dispose();
        fail(
          'DATA_INVALID',
          `saved optimizer slot '${key}' does not fit a parameter of this group`,
          'restore a state saved from the same model configuration',
        );
      }
      next.set(key, keep(tensor(v.data, like.shape, 'float32', like.backend)));
    }
    this.dispose();
    this.slots = next;
  }

  all(): Map<string, Tensor> {
    return new Map(this.slots);
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }
}
