import type { Tensor } from '../../core/tensor.js';
import { add, concat, slice } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import type { BuildContext, Cache, ForwardContext, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';
import { LayerStack, type LayerBuilder } from '../stack.js';

type BranchSpec = Extract<LayerSpec, { type: 'branches' }>;

/**
 * Runs the same input through several layer stacks and merges them: 'concat' joins along the feature
 * axis, 'add' sums. An empty branch is the identity, so { merge: 'add', branches: [[], body] } is a skip.
 */
export class Branches extends BaseLayer<BranchSpec> {
  readonly branches: LayerStack[];

  /** `build` builds the branches' layers: build.ts passes itself. */
  constructor(spec: BranchSpec, inputShape: readonly number[], ctx: BuildContext, build: LayerBuilder) {
    super(spec, inputShape);
    this.branches = spec.branches.map((layers) => new LayerStack(inputShape, layers, ctx, build));
    const shapes = this.branches.map((b) => b.outputShape);
    const ok = shapes.every(
      (s) =>
        s.length === shapes[0].length && s.every((d, i) => (spec.merge === 'concat' && i === 0) || d === shapes[0][i]),
    );
    if (!ok)
      fail(
        'SPEC_INVALID',
        `branches to ${spec.merge} have shapes ${shapes.map(fmt).join(', ')}`,
        `${spec.merge} needs equal shapes${spec.merge === 'concat' ? ' except the feature axis' : ''}`,
      );
    this.outputShape =
      spec.merge === 'add' ? shapes[0] : [shapes.reduce((s, sh) => s + sh[0], 0), ...shapes[0].slice(1)];
    this.branches.forEach((b, i) => {
      for (const [k, t] of b.namedParams()) this.params.set(`${i}.${k}`, t);
      for (const [k, t] of b.namedBuffers()) this.buffers.set(`${i}.${k}`, t);
    });
  }

  forward(x: Tensor, ctx: ForwardContext) {
    const runs = this.branches.map((b) => b.forwardWithCache(x, ctx));
    const ys = runs.map((r) => r.y);
    const y = this.spec.merge === 'concat' ? concat(ys, 1) : ys.slice(1).reduce((acc, t) => add(acc, t), ys[0]);
    return { y, cache: runs.map((r) => r.caches) };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    const caches = cache as Cache[];
    let at = 0,
      dx: Tensor | null = null;
    const grads: Record<string, Tensor> = {};
    this.branches.forEach((b, i) => {
      const width = b.outputShape[0];
      const dyi = this.spec.merge === 'concat' ? slice(dy, 1, at, width) : dy;
      at += width;
      const g = b.backwardWithCache(dyi, caches[i] as Cache[]);
      for (const [k, t] of Object.entries(g.grads)) grads[`${i}.${k}`] = t;
      if (g.dx) dx = dx ? add(dx, g.dx) : g.dx;
    });
    return { dx, grads };
  }
}
