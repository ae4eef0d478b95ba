import { fmtDims, importError as err } from './import-error.js';
import { broadcastShapes, type GraphState } from './graph-state.js';
import type { NodeView } from './node-view.js';
import { concatConstants, foldArithmetic } from './convert-shapes.js';
import { denseBias } from './convert-layers.js';

type Handler = (v: NodeView, g: GraphState) => void;

/**
 * Add, Sub, Mul, Div: of constants, folded; of two computed values, a merge (residual Add, gating Mul); a constant
 * added to a MatMul's output that nothing else reads, that dense layer's bias. Anything else is refused.
 */
const arithmetic: Handler = (v, g) => {
  const [a, b] = v.ins;
  if (g.isConst(a) && g.isConst(b)) {
    const ca = g.constOf(a)!,
      cb = g.constOf(b)!;
    return g.setConst(v.outs[0], foldArithmetic(v, ca, cb), v);
  }
  if (!g.isConst(a) && !g.isConst(b)) {
    if (v.op !== 'Add' && v.op !== 'Mul')
      throw err(`${v.at} combines two computed values; layerhive merges them by Add, Mul or Concat only`);
    const shapes = [g.act(v, a).shape, g.act(v, b).shape];
    const shape = broadcastShapes(shapes);
    if (!shape)
      throw err(
        `${v.at} joins values of shapes ${shapes.map((s) => `[N, ${s.join(', ')}]`).join(' and ')}, ` +
          'which do not broadcast per sample',
      );
    return g.mergeOf(v, [a, b], v.op === 'Add' ? 'add' : 'mul', shape);
  }
  const [x, c] = g.isConst(a) ? [b, a] : [a, b];
  const dense = g.soleLayerBefore(x);
  if (v.op === 'Add' && dense?.spec.type === 'dense' && !dense.spec.bias) {
    const N = dense.spec.units;
    dense.params.bias = denseBias(v, g.constant(v, c, false), N, 1, `the Add '${v.name}' operand`);
    dense.spec = { ...dense.spec, bias: true };
    return g.extend(v, dense, v.outs[0]);
  }
  throw err(
    `${v.at} ${v.op === 'Add' ? 'adds a constant to' : `combines a constant with`} a computed value ` +
      `[N, ${g.act(v, x).shape.join(', ')}]; layerhive reads a constant Add only as the bias of the MatMul before it`,
  );
};

/** Concat of constants (shapes), folded; of computed values along the channel/feature axis (1), a merge. */
const concat: Handler = (v, g) => {
  const consts = v.ins.filter((i) => g.isConst(i));
  if (consts.length === v.ins.length) return concatConstants(v, g);
  if (consts.length) throw err(`${v.at} joins constants and computed values`);
  const shapes = v.ins.map((i) => g.act(v, i).shape);
  const r = shapes[0].length + 1;
  if (!v.has('axis')) throw v.refuse('axis', 'is missing (Concat needs it)');
  const raw = v.int('axis', 1),
    axis = raw < 0 ? raw + r : raw;
  if (axis !== 1) throw v.refuse('axis', `= ${raw}: layerhive joins values along the channel (feature) axis 1 only`);
  if (shapes.some((s) => s.length !== r - 1 || s.some((d, i) => i > 0 && d !== shapes[0][i])))
    throw err(`${v.at} joins values of shapes ${shapes.map((s) => fmtDims(s)).join(', ')} along axis 1`);
  g.mergeOf(v, v.ins, 'concat', [shapes.reduce((s, sh) => s + sh[0], 0), ...shapes[0].slice(1)]);
};

/** The ops that combine values, by ONNX op type. */
export const arithmeticOps: Record<string, Handler> = {
  Add: arithmetic,
  Sub: arithmetic,
  Mul: arithmetic,
  Div: arithmetic,
  Concat: concat,
};
