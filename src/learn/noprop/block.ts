import type { Tensor } from '../../core/tensor.js';
import type { Rng } from '../../core/rng.js';
import type { Backend } from '../../backend/backend.js';
import { concat, slice } from '../../ops/index.js';
import { Sequential } from '../../nn/sequential.js';
import type { Cache } from '../../nn/layer.js';
import type { BlockSpec } from './block-specs.js';

/** One NoProp block: logits = fused([image(x), label(z)]). Parameters are named image.*, label.*, fused.*. */
export class Block {
  readonly image: Sequential;
  readonly label: Sequential;
  readonly fused: Sequential;

  constructor(spec: BlockSpec, inputShape: number[], embedDim: number, backend: Backend, rng: Rng) {
    this.image = new Sequential({ input: inputShape, layers: spec.image }, { backend, rng });
    this.label = new Sequential({ input: [embedDim], layers: spec.label }, { backend, rng });
    const width = this.image.outputShape[0] + this.label.outputShape[0];
    this.fused = new Sequential({ input: [width], layers: spec.fused }, { backend, rng });
  }

  private parts(): [string, Sequential][] {
    return [
      ['image', this.image],
      ['label', this.label],
      ['fused', this.fused],
    ];
  }

  namedParams(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [p, s] of this.parts()) for (const [k, t] of s.namedParams()) out.set(`${p}.${k}`, t);
    return out;
  }

  namedBuffers(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [p, s] of this.parts()) for (const [k, t] of s.namedBuffers()) out.set(`${p}.${k}`, t);
    return out;
  }

  /** Logits [B, classes]; call inside a tidy together with `backward`. */
  forward(x: Tensor, z: Tensor, ctx: { training: boolean; rng?: Rng }): { logits: Tensor; cache: Cache } {
    const hx = this.image.forwardWithCache(x, ctx),
      hz = this.label.forwardWithCache(z, ctx);
    const h = this.fused.forwardWithCache(concat([hx.y, hz.y], 1), ctx);
    return {
      logits: h.y,
      cache: { hx: hx.caches, hz: hz.caches, h: h.caches, widths: [hx.y.shape[1], hz.y.shape[1]] },
    };
  }

  /** Parameter gradients from d loss / d logits; nothing flows out of the block. */
  backward(dLogits: Tensor, cache: Cache): Record<string, Tensor> {
    const c = cache as { hx: Cache[]; hz: Cache[]; h: Cache[]; widths: [number, number] };
    const grads: Record<string, Tensor> = {};
    const fused = this.fused.backwardWithCache(dLogits, c.h);
    const dh = fused.dx!;
    const gi = this.image.backwardWithCache(slice(dh, 1, 0, c.widths[0]), c.hx, 0, this.image.layers.length, false);
    const gl = this.label.backwardWithCache(
      slice(dh, 1, c.widths[0], c.widths[1]),
      c.hz,
      0,
      this.label.layers.length,
      false,
    );
    for (const [p, g] of [
      ['image', gi],
      ['label', gl],
      ['fused', fused],
    ] as const)
      for (const [k, t] of Object.entries(g.grads)) grads[`${p}.${k}`] = t;
    return grads;
  }
}
