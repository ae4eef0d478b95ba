import type { LayerSpec } from '../nn/layer.js';
import { importError as err } from './import-error.js';
import type { Constant } from './initializers.js';
import type { NodeView } from './node-view.js';

/** A node that became a layer: it reads one computed value and writes one. */
export interface LayerUnit {
  kind: 'layer';
  node: string;
  input: string;
  output: string;
  spec: LayerSpec;
  params: Record<string, Float32Array>;
  buffers: Record<string, Float32Array>;
}

/** A node that joins computed values: residual Add, Mul (gating), Concat over channels. */
export interface MergeUnit {
  kind: 'merge';
  node: string;
  inputs: string[];
  output: string;
  merge: 'add' | 'mul' | 'concat';
}

export type Unit = LayerUnit | MergeUnit;

/** A computed value: its per-sample shape and the unit that wrote it (−1: the graph input). */
export interface Activation {
  shape: number[];
  from: number;
}

/**
 * What the importer knows while it reads the nodes in order: constants (initializers, Constant nodes, shapes folded
 * at import; an int64 constant may hold NaN where it stands for the batch size), computed values and the units
 * that compute them, names that stand for other names (dropped nodes), how often each name is read.
 */
export class GraphState {
  readonly consts = new Map<string, Constant>();
  readonly acts = new Map<string, Activation>();
  readonly units: Unit[] = [];
  readonly notes: string[] = [];
  private readonly aliases = new Map<string, string>();

  constructor(
    readonly opset: number,
    /** The batch size the graph's input fixes, or null when it is symbolic. */
    readonly batch: number | null,
    private readonly useCount: ReadonlyMap<string, number>,
    /** The graph's output names. */
    readonly outputs: ReadonlySet<string>,
  ) {}

  /** The name a value is known by (after dropped nodes). */
  resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  /** How many node inputs and graph outputs read `name`. */
  uses(name: string): number {
    return this.useCount.get(name) ?? 0;
  }

  isConst(name: string): boolean {
    return this.consts.has(this.resolve(name));
  }

  /** The constant `name` stands for, if it is one (any kind; `constant` checks the kind). */
  constOf(name: string): Constant | undefined {
    return this.consts.get(this.resolve(name));
  }

  /** A computed value read by a node; a constant or an unknown name there is an error naming the node. */
  act(v: NodeView, name: string): Activation {
    const a = this.acts.get(this.resolve(name));
    if (a) return a;
    if (this.isConst(name))
      throw err(`${v.at} reads the constant '${name}' where layerhive needs a value computed from the input`);
    throw err(`${v.at} reads '${name}', which no earlier node produces`, 'the file is damaged or not sorted');
  }

  /** The spatial input [C, H, W] of a window op. */
  spatial(v: NodeView, name: string): [number, number, number] {
    const s = this.act(v, name).shape;
    if (s.length !== 3) throw err(`${v.at} needs a [N, C, H, W] input but gets [N, ${s.join(', ')}]`);
    return s as [number, number, number];
  }

  /** A constant input of a node (int64 for shapes, axes and pads; float32 otherwise). */
  constant(v: NodeView, name: string, int64: boolean): Constant {
    const c = this.consts.get(this.resolve(name));
    if (!c) {
      if (this.acts.has(this.resolve(name)))
        throw err(`${v.at} reads '${name}' as a constant, but it is computed from the input`);
      throw err(`${v.at} reads '${name}', which is neither a computed value nor a weight`);
    }
    if (c.int64 !== int64)
      throw err(
        `${v.at} reads '${name}' as ${int64 ? 'int64' : 'float32'}, but it is ${c.int64 ? 'int64' : 'float32'}`,
      );
    return c;
  }

  setConst(name: string, c: Constant, v?: NodeView): void {
    if (v) this.fresh(v, name);
    this.consts.set(name, c);
  }

  /** Every value is written once (IR.md: the graph is in single static assignment form). */
  private fresh(v: NodeView, name: string): void {
    if (this.acts.has(name) || this.consts.has(name) || this.aliases.has(name))
      throw err(`${v.at} writes '${name}', which the graph already defines`, 'the file is damaged');
  }

  /** A node that computes nothing at inference: its output is its input. */
  drop(v: NodeView, input: string, why: string): void {
    this.fresh(v, v.outs[0]);
    this.aliases.set(v.outs[0], this.resolve(input));
    this.notes.push(`${v.op} node '${v.name}' dropped (${why})`);
  }

  layer(
    v: NodeView,
    input: string,
    spec: LayerSpec,
    shape: number[],
    params: Record<string, Float32Array> = {},
    buffers: Record<string, Float32Array> = {},
  ): LayerUnit {
    if (shape.some((d) => !(Number.isSafeInteger(d) && d >= 1)))
      throw err(`${v.at} would make a value of shape [N, ${shape.join(', ')}]`, 'the file is damaged');
    this.fresh(v, v.outs[0]);
    const unit: LayerUnit = {
      kind: 'layer',
      node: v.name,
      input: this.resolve(input),
      output: v.outs[0],
      spec,
      params,
      buffers,
    };
    this.acts.set(v.outs[0], { shape, from: this.units.length });
    this.units.push(unit);
    return unit;
  }

  mergeOf(v: NodeView, inputs: string[], merge: MergeUnit['merge'], shape: number[]): void {
    this.fresh(v, v.outs[0]);
    this.acts.set(v.outs[0], { shape, from: this.units.length });
    this.units.push({
      kind: 'merge',
      node: v.name,
      inputs: inputs.map((i) => this.resolve(i)),
      output: v.outs[0],
      merge,
    });
  }

  /** The layer that wrote `name`, when one did and nothing else reads it (a MatMul that an Add's bias joins). */
  soleLayerBefore(name: string): LayerUnit | undefined {
    const a = this.acts.get(this.resolve(name));
    const u = a && a.from >= 0 ? this.units[a.from] : undefined;
    return u?.kind === 'layer' && this.uses(u.output) === 1 && u.output === this.resolve(name) ? u : undefined;
  }

  /** Moves a layer's output to `v`'s (a node folded into it writes the value now). */
  extend(v: NodeView, u: LayerUnit, name: string): void {
    this.fresh(v, name);
    const a = this.acts.get(u.output)!;
    this.acts.delete(u.output);
    u.output = name;
    this.acts.set(name, a);
  }
}

/** Numpy broadcasting of per-sample shapes of equal rank; null when they do not broadcast. */
export function broadcastShapes(shapes: number[][]): number[] | null {
  const r = shapes[0].length;
  if (shapes.some((s) => s.length !== r)) return null;
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const ds = new Set(shapes.map((s) => s[i]).filter((d) => d !== 1));
    if (ds.size > 1) return null;
    out.push(ds.size ? [...ds][0] : 1);
  }
  return out;
}
