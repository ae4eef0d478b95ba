import { fmtDims, importError as err } from './import-error.js';
import type { GraphState } from './graph-state.js';
import type { Constant } from './initializers.js';
import type { NodeView } from './node-view.js';

type Handler = (v: NodeView, g: GraphState) => void;
const prod = (d: readonly number[]) => d.reduce((p, x) => p * x, 1);

/** A per-sample shape reached by Flatten, Reshape, Squeeze or Unsqueeze: dropped, a flatten, or a reshape. */
function reshapeTo(v: NodeView, g: GraphState, after: number[]): void {
  const shape = g.act(v, v.ins[0]).shape;
  if (after.length === shape.length && after.every((d, i) => d === shape[i])) g.drop(v, v.ins[0], 'it keeps the shape');
  else if (after.length === 1) g.layer(v, v.ins[0], { type: 'flatten' }, after);
  else g.layer(v, v.ins[0], { type: 'reshape', shape: after }, after);
}

const flatten: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  // axis default 1 (spec); range [−r, r], negative counts from the back (opset 11 on)
  const r = shape.length + 1,
    raw = v.int('axis', 1);
  if (raw < -r || raw > r || (raw < 0 && g.opset < 11))
    throw v.refuse('axis', `= ${raw} is outside the range opset ${g.opset} allows for a rank-${r} input`);
  const axis = raw < 0 ? raw + r : raw;
  // [N, d1 … d(axis−1), …] → [N·d1⋯, rest]: a flatten that keeps the batch when d1 … d(axis−1) are all 1
  if (axis === 0 || shape.slice(0, axis - 1).some((d) => d !== 1))
    throw v.refuse('axis', `= ${raw} folds the batch into other dimensions (input [N, ${shape.join(', ')}])`);
  if (shape.length === 1) g.drop(v, v.ins[0], 'its input is already [N, features]');
  else g.layer(v, v.ins[0], { type: 'flatten' }, [prod(shape.slice(axis - 1))]);
};

/**
 * Reshape: a 0 copies the input's dimension (allowzero default 0, opset 14 on), one −1 is inferred; the batch must
 * stay first — a 0 or the folded batch size (a Shape→Gather→Concat subgraph) there, or −1 where the rest holds the
 * per-sample values.
 */
const reshape: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  const c = g.constant(v, v.ins[1], true);
  const target = Array.from(c.data);
  if (c.dims.length !== 1)
    throw err(`${v.at}: its shape '${v.ins[1]}' is not a 1-D int64 tensor`, 'the file is damaged');
  const allowZero = g.opset >= 14 ? v.int('allowzero', 0) : 0;
  const full = [null, ...shape]; // null: the batch
  const F = prod(shape);
  const shown = target.map((t) => (Number.isNaN(t) ? 'N' : t));
  const bad = (why: string) =>
    err(`${v.at}: the target shape ${fmtDims(shown as number[])} ${why} (input [N, ${shape.join(', ')}])`);
  const isBatch = (t: number) => Number.isNaN(t) || t === 0 || (g.batch !== null && t === g.batch);
  if (
    target.filter((t) => t === -1).length > 1 ||
    target.some((t, i) => (Number.isNaN(t) ? i !== 0 : t < -1 || !Number.isInteger(t)))
  )
    throw bad('is not a valid shape');
  if (allowZero && target.includes(0)) throw v.refuse('allowzero', '= 1 with a 0 in the shape: an empty tensor');
  const rest = target.slice(1).map((t, i) => (t === 0 ? (full[i + 1] ?? Number.NaN) : t));
  if (rest.some((t) => Number.isNaN(t))) throw bad('copies a dimension the input does not have');
  const known = prod(rest.filter((t) => t !== -1));
  let after: number[];
  if (target.length && isBatch(target[0])) {
    if (rest.includes(-1)) {
      if (known === 0 || F % known !== 0) throw bad('does not divide the input');
      after = rest.map((t) => (t === -1 ? F / known : t));
    } else after = rest;
    if (prod(after) !== F) throw bad('does not hold the input’s values');
  } else if (target[0] === -1) {
    if (known !== F) throw bad('does not keep the batch as the first dimension');
    after = rest;
  } else throw bad('does not keep the batch as the first dimension');
  if (after.length === 0) throw bad('leaves no dimension besides the batch');
  reshapeTo(v, g, after);
};

/** The axes of Squeeze/Unsqueeze: an attribute before opset 13, an optional int64 input from 13. */
function axesOf(v: NodeView, g: GraphState): number[] | undefined {
  if (g.opset >= 13) return v.ins[1] ? Array.from(g.constant(v, v.ins[1], true).data) : undefined;
  return v.has('axes') ? v.ints('axes', []) : undefined;
}

function unsqueezed(v: NodeView, dims: readonly number[], axes: number[] | undefined, keepBatch: boolean): number[] {
  if (!axes?.length) throw v.refuse('axes', 'is missing (Unsqueeze needs it)');
  const r = dims.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  if (norm.some((a) => a < 0 || a >= r) || new Set(norm).size !== norm.length)
    throw v.refuse('axes', `= ${fmtDims(axes)} is not distinct axes of a rank-${r} output`);
  if (keepBatch && norm.includes(0)) throw v.refuse('axes', `= ${fmtDims(axes)} moves the batch away from axis 0`);
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(norm.includes(i) ? 1 : dims[k++]);
  return out;
}

function squeezed(v: NodeView, dims: readonly number[], axes: number[] | undefined, keepBatch: boolean): number[] {
  const r = dims.length;
  const norm =
    axes?.map((a) => (a < 0 ? a + r : a)) ??
    dims.map((d, i) => (d === 1 && !(keepBatch && i === 0) ? i : -1)).filter((i) => i >= 0);
  if (norm.some((a) => a < 0 || a >= r || dims[a] !== 1))
    throw v.refuse('axes', `= ${fmtDims(axes ?? [])} names an axis that is not of size 1 in ${fmtDims(dims)}`);
  if (keepBatch && norm.includes(0)) throw v.refuse('axes', `= ${fmtDims(axes ?? [])} removes the batch axis`);
  return dims.filter((_, i) => !norm.includes(i));
}

/** Squeeze or Unsqueeze: a constant's dims change (folded); a computed value's per-sample shape, the batch kept. */
const axesOp =
  (dimsOf: typeof squeezed): Handler =>
  (v, g) => {
    const axes = axesOf(v, g);
    const c = g.constOf(v.ins[0]);
    if (c) return g.setConst(v.outs[0], { ...c, dims: dimsOf(v, c.dims, axes, false) }, v);
    const shape = g.act(v, v.ins[0]).shape;
    reshapeTo(v, g, dimsOf(v, [0, ...shape], axes, true).slice(1));
  };

/** Transpose: perm default reversed (spec); the batch must stay axis 0. */
const transpose: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  const r = shape.length + 1;
  const perm = v.ints(
    'perm',
    Array.from({ length: r }, (_, i) => r - 1 - i),
  );
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    throw v.refuse('perm', `= ${fmtDims(perm)} is not a permutation of the ${r} axes`);
  if (perm[0] !== 0) throw v.refuse('perm', `= ${fmtDims(perm)} moves the batch away from axis 0`);
  const per = perm.slice(1).map((p) => p - 1);
  if (per.every((p, i) => p === i)) return g.drop(v, v.ins[0], 'it keeps the order');
  g.layer(
    v,
    v.ins[0],
    { type: 'transpose', perm: per },
    per.map((p) => shape[p]),
  );
};

/** Pad in constant mode (the default): pads from an attribute before opset 11, from an int64 input after. */
const pad: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  const r = shape.length + 1;
  const mode = v.str('mode', 'constant');
  if (mode !== 'constant') throw v.refuse('mode', `= '${mode}': layerhive pads with a constant only`);
  let pads = g.opset >= 11 ? Array.from(g.constant(v, v.ins[1], true).data) : v.ints('pads', []);
  let value = g.opset >= 11 ? 0 : v.flt('value', 0);
  if (g.opset >= 11 && v.ins[2]) {
    const c = g.constant(v, v.ins[2], false);
    if (c.data.length !== 1) throw err(`${v.at}: its constant_value '${v.ins[2]}' is not a scalar`);
    value = c.data[0];
  }
  if (v.ins[3]) {
    // opset 18: pads given for these axes only
    const axes = Array.from(g.constant(v, v.ins[3], true).data).map((a) => (a < 0 ? a + r : a));
    if (pads.length !== 2 * axes.length || axes.some((a) => a < 0 || a >= r))
      throw err(`${v.at}: pads ${fmtDims(pads)} do not fit axes ${fmtDims(axes)}`);
    const full = new Array(2 * r).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i];
      full[a + r] = pads[i + axes.length];
    });
    pads = full;
  }
  if (pads.length !== 2 * r) throw err(`${v.at}: pads ${fmtDims(pads)} are not two per axis of a rank-${r} input`);
  if (pads.some((p) => p < 0)) throw err(`${v.at}: pads ${fmtDims(pads)} crop; layerhive pads only`);
  if (pads[0] || pads[r]) throw err(`${v.at}: pads ${fmtDims(pads)} pad the batch`);
  const per = [...pads.slice(1, r), ...pads.slice(r + 1)];
  if (per.every((p) => p === 0)) return g.drop(v, v.ins[0], 'it pads nothing');
  g.layer(
    v,
    v.ins[0],
    { type: 'pad', pads: per, ...(value !== 0 ? { value } : {}) },
    shape.map((d, i) => d + per[i] + per[i + shape.length]),
  );
};

// shape arithmetic folded at import: what torch.onnx.export writes around a Reshape (Shape → Gather → Unsqueeze →
// Concat). The batch size, when the input's is symbolic, is NaN in these constants.

const shapeOf: Handler = (v, g) => {
  const dims = g.isConst(v.ins[0]) ? g.constOf(v.ins[0])!.dims : [g.batch ?? Number.NaN, ...g.act(v, v.ins[0]).shape];
  const r = dims.length;
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
  const out = dims.slice(clamp(v.int('start', 0)), clamp(v.int('end', r)));
  g.setConst(v.outs[0], { dims: [out.length], data: Float32Array.from(out), int64: true }, v);
};

const gather: Handler = (v, g) => {
  const data = g.constant(v, v.ins[0], g.constOf(v.ins[0])?.int64 ?? true);
  const idx = g.constant(v, v.ins[1], true);
  if (data.dims.length !== 1 || v.int('axis', 0) !== 0)
    throw err(`${v.at} gathers from a ${data.dims.length}-D constant; layerhive folds 1-D shape gathers only`);
  const n = data.dims[0];
  const out = Array.from(idx.data, (i) => {
    const k = i < 0 ? i + n : i;
    if (!(k >= 0 && k < n)) throw err(`${v.at}: index ${i} is outside the ${n} values`);
    return data.data[k];
  });
  g.setConst(v.outs[0], { dims: idx.dims, data: Float32Array.from(out), int64: data.int64 }, v);
};

const cast: Handler = (v, g) => {
  const c = g.constOf(v.ins[0]);
  if (!c) throw err(`${v.at} casts a value computed from the input`, 'layerhive computes in float32 throughout');
  const to = v.int('to', 0);
  // TensorProto.DataType: FLOAT 1, INT64 7
  if (to === 1) g.setConst(v.outs[0], { ...c, int64: false }, v);
  else if (to === 7) g.setConst(v.outs[0], { dims: c.dims, data: c.data.map(Math.trunc), int64: true }, v);
  else throw v.refuse('to', `= ${to}: layerhive folds casts to float32 and int64 only`);
};

/** Concat of constants (1-D: shapes being assembled). */
export function concatConstants(v: NodeView, g: GraphState): void {
  const cs = v.ins.map((i) => g.constOf(i)!);
  if (cs.some((c) => c.dims.length !== 1 || c.int64 !== cs[0].int64))
    throw err(`${v.at} joins constants that are not 1-D of one type; layerhive folds shape concatenations only`);
  const data = Float32Array.from(cs.flatMap((c) => Array.from(c.data)));
  g.setConst(v.outs[0], { dims: [data.length], data, int64: cs[0].int64 }, v);
}

/** Elementwise arithmetic on constants (a scalar with anything, or equal shapes); int64 division truncates. */
export function foldArithmetic(v: NodeView, a: Constant, b: Constant): Constant {
  const n = Math.max(a.data.length, b.data.length);
  if (a.data.length !== n && a.data.length !== 1)
    throw err(`${v.at} combines constants of shapes ${fmtDims(a.dims)} and ${fmtDims(b.dims)}`);
  if (b.data.length !== n && b.data.length !== 1)
    throw err(`${v.at} combines constants of shapes ${fmtDims(a.dims)} and ${fmtDims(b.dims)}`);
  const int64 = a.int64 && b.int64;
  const f = {
    Add: (x: number, y: number) => x + y,
    Sub: (x: number, y: number) => x - y,
    Mul: (x: number, y: number) => x * y,
    Div: (x: number, y: number) => (int64 ? Math.trunc(x / y) : x / y),
  }[v.op as 'Add'];
  const data = Float32Array.from({ length: n }, (_, i) =>
    f(a.data[a.data.length === 1 ? 0 : i], b.data[b.data.length === 1 ? 0 : i]),
  );
  return { dims: a.data.length === n ? a.dims : b.dims, data, int64 };
}

/** The ops that change a value's layout (or fold shape arithmetic), by ONNX op type. */
export const shapeOps: Record<string, Handler> = {
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: axesOp(squeezed),
  Unsqueeze: axesOp(unsqueezed),
  Transpose: transpose,
  Pad: pad,
  Shape: shapeOf,
  Gather: gather,
  Cast: cast,
};
