import type { Tensor } from '../../core/tensor.js';
import { add, concat, mul, slice, sumToShape } from '../../ops/index.js';
import { fail } from '../../core/errors.js';
import { fmt } from '../../core/shape.js';
import { tidy } from '../../core/scope.js';
import type { BuildContext, Cache, ForwardContext, Gradients, LayerSpec } from '../layer.js';
import { BaseLayer } from './base.js';
import { LayerStack, type LayerBuilder } from '../stack.js';

type BranchSpec = Extract<LayerSpec, { type: 'branches' }>;
const merges = ['concat', 'add', 'mul'];

/** NumPy broadcasting of per-sample shapes (trailing axes aligned, 1 stretches), or null where they do not. */
function broadcast(shapes: readonly (readonly number[])[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const dims = shapes.map((s) => s[s.length - rank + k] ?? 1).filter((d) => d !== 1);
    if (dims.some((d) => d !== dims[0])) return null;
    out.push(dims[0] ?? 1);
  }
  return out;
}

/**
 * Runs the same input through several layer stacks and merges them: 'concat' joins along the first per-sample axis,
 * 'add' sums and 'mul' multiplies, broadcasting as NumPy does ([C, H, W] · [C, 1, 1]: squeeze-excitation). An empty
 * branch is the identity, so { merge: 'add', branches: [[], body] } is a skip.
 */
export class Branches extends BaseLayer<BranchSpec> {
  readonly branches: LayerStack[];
  /** Each branch's per-sample output shape with leading 1s up to the merged rank (what broadcasting aligns). */
  private readonly aligned: number[][];

  /** `build` builds the branches' layers: build.ts passes itself. */
  constructor(spec: BranchSpec, inputShape: readonly number[], ctx: BuildContext, build: LayerBuilder) {
    super(spec, inputShape);
    if (!merges.includes(spec.merge) || !Array.isArray(spec.branches) || spec.branches.length === 0)
      fail(
        'SPEC_INVALID',
        `branches with merge ${JSON.stringify(spec.merge)} and ${spec.branches?.length ?? 'no'} branches`,
        `merge one or more branches by ${merges.join(', ')}`,
      );
    this.branches = spec.branches.map((layers) => new LayerStack(inputShape, layers, ctx, build));
    const shapes = this.branches.map((b) => b.outputShape);
    const joined =
      spec.merge === 'concat'
        ? shapes.every(
            (s) => s.length === shapes[0].length && s.length > 0 && s.every((d, i) => i === 0 || d === shapes[0][i]),
          )
          ? [shapes.reduce((n, s) => n + s[0], 0), ...shapes[0].slice(1)]
          : null
        : broadcast(shapes);
    if (!joined)
      fail(
        'SPEC_INVALID',
        `branches to ${spec.merge} have shapes ${shapes.map(fmt).join(', ')}`,
        spec.merge === 'concat'
          ? 'concat needs equal shapes except the first axis'
          : `${spec.merge} needs shapes that broadcast (each axis equal or 1, trailing axes aligned)`,
      );
    this.outputShape = joined;
    this.aligned = shapes.map((s) => [...Array<number>(joined.length - s.length).fill(1), ...s]);
    this.branches.forEach((b, i) => {
      for (const [k, t] of b.namedParams()) this.params.set(`${i}.${k}`, t);
      for (const [k, t] of b.namedBuffers()) this.buffers.set(`${i}.${k}`, t);
    });
  }

  /** Branch `i`'s output [N, …] with leading 1s after the batch up to the merged rank (so the batch axes align). */
  private align(y: Tensor, i: number): Tensor {
    return y.rank === this.aligned[i].length + 1 ? y : y.reshape([y.shape[0], ...this.aligned[i]]);
  }

  /** The branches' outputs (in branch order) merged: joined on the first per-sample axis, added or multiplied. */
  merge(outs: readonly Tensor[]): Tensor {
    if (this.spec.merge === 'concat') return concat(outs, 1);
    const op = this.spec.merge === 'add' ? add : mul;
    return tidy(() => {
      const ys = outs.map((y, i) => this.align(y, i));
      return ys.slice(1).reduce((acc, t) => op(acc, t), ys[0]);
    });
  }

  /**
   * The gradient at branch `i`'s output from `dy` at the merged output: concat's slice of the first per-sample axis;
   * for add, `dy`; for mul, `dy` times the other branches' `outs`; summed back over the axes branch `i` broadcast.
   */
  branchGradient(dy: Tensor, i: number, outs?: readonly Tensor[]): Tensor {
    return tidy(() => {
      if (this.spec.merge === 'concat') {
        const at = this.branches.slice(0, i).reduce((n, b) => n + b.outputShape[0], 0);
        return slice(dy, 1, at, this.branches[i].outputShape[0]);
      }
      const g =
        this.spec.merge === 'mul' ? outs!.reduce((acc, y, j) => (j === i ? acc : mul(acc, this.align(y, j))), dy) : dy;
      return sumToShape(g, [dy.shape[0], ...this.aligned[i]]).reshape([dy.shape[0], ...this.branches[i].outputShape]);
    });
  }

  forward(x: Tensor, ctx: ForwardContext) {
    const runs = this.branches.map((b) => b.forwardWithCache(x, ctx));
    const outs = runs.map((r) => r.y);
    return { y: this.merge(outs), cache: { caches: runs.map((r) => r.caches), outs } };
  }

  backward(dy: Tensor, cache: Cache): Gradients {
    const { caches, outs } = cache as { caches: Cache[][]; outs: Tensor[] };
    let dx: Tensor | null = null;
    const grads: Record<string, Tensor> = {};
    this.branches.forEach((b, i) => {
      const g = b.backwardWithCache(this.branchGradient(dy, i, outs), caches[i]);
      for (const [k, t] of Object.entries(g.grads)) grads[`${i}.${k}`] = t;
      if (g.dx) dx = dx ? add(dx, g.dx) : g.dx;
    });
    return { dx, grads };
  }
}
