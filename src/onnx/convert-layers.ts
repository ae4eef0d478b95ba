import { fmtDims, importError as err } from './import-error.js';
import type { GraphState } from './graph-state.js';
import type { NodeView } from './node-view.js';
import { windowOf } from './window.js';

type Handler = (v: NodeView, g: GraphState) => void;

/** Gemm, and MatMul by a 2-D weight: a dense layer (a bias Add after a MatMul joins it: see convert-arith). */
const dense: Handler = (v, g) => {
  const [x, wName, cName] = v.ins;
  const shape = g.act(v, x).shape;
  const w = g.constant(v, wName, false);
  if (w.dims.length !== 2)
    throw err(
      `${v.at} has a ${w.dims.length}-D weight; layerhive's dense layers read 2-D ones`,
      'a batched MatMul by an N-D weight is not read; a MatMul of two computed values (attention) neither',
    );
  // MatMul of [N, …, K] by a 2-D weight: the same dense layer at every leading position (Gemm is 2-D by the spec)
  if (shape.length !== 1 && v.op === 'Gemm')
    throw err(`${v.at} multiplies a [N, ${shape.join(', ')}] input; Gemm takes [N, features]`, 'the file is damaged');
  const lastAxis = shape.length > 1;
  // Gemm defaults (spec): alpha = 1, beta = 1, transA = 0, transB = 0
  const gemm = v.op === 'Gemm';
  const transA = gemm ? v.int('transA', 0) : 0,
    transB = gemm ? v.int('transB', 0) : 0;
  if (transA !== 0) throw v.refuse('transA', `= ${transA}: the batch would be transposed into the features`);
  const alpha = gemm ? v.flt('alpha', 1) : 1,
    beta = gemm ? v.flt('beta', 1) : 1;
  const [K, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
  if (K !== shape[shape.length - 1])
    throw err(`${v.at} has a weight ${fmtDims(w.dims)} for ${shape[shape.length - 1]} input features`);
  const W = new Float32Array(K * N);
  for (let i = 0; i < K; i++)
    for (let j = 0; j < N; j++) W[i * N + j] = alpha * (transB ? w.data[j * K + i] : w.data[i * N + j]);
  const bias = gemm && cName ? denseBias(v, g.constant(v, cName, false), N, beta, 'C') : null;
  g.layer(
    v,
    x,
    { type: 'dense', units: N, bias: !!bias, ...(lastAxis ? { lastAxis } : {}) },
    [...shape.slice(0, -1), N],
    bias ? { weight: W, bias } : { weight: W },
  );
};

/** A bias broadcastable to [N, outputs] without depending on the batch: [], [1], [outs], [1, 1], [1, outs]. */
export function denseBias(
  v: NodeView,
  c: { dims: number[]; data: Float32Array },
  N: number,
  scale: number,
  what: string,
): Float32Array {
  const d = c.dims;
  if (!(d.length <= 2 && (d.length < 2 || d[0] === 1) && (d.length === 0 || [1, N].includes(d[d.length - 1]))))
    throw err(`${v.at}: ${what} of shape ${fmtDims(d)} does not broadcast to [N, ${N}] for every batch size`);
  return Float32Array.from({ length: N }, (_, j) => scale * c.data[c.data.length === 1 ? 0 : j]);
}

const conv: Handler = (v, g) => {
  const [x, wName, bName] = v.ins;
  const [C, H, Wd] = g.spatial(v, x);
  const w = g.constant(v, wName, false);
  if (w.dims.length !== 4) throw err(`${v.at} has a ${w.dims.length}-D weight; layerhive reads 2-D convolutions`);
  // group default 1 (spec): C and the filters split into `group` parts, W is [filters, C / group, kh, kw]
  const group = v.int('group', 1);
  if (!(Number.isSafeInteger(group) && group >= 1 && C % group === 0 && w.dims[0] % group === 0))
    throw v.refuse('group', `= ${group} does not divide the ${C} input channels and ${w.dims[0]} filters`);
  if (w.dims[1] * group !== C)
    throw err(
      `${v.at} has a weight ${fmtDims(w.dims)} for ${C} input channels${group > 1 ? ` in ${group} groups` : ''}`,
    );
  const kernel = [w.dims[2], w.dims[3]];
  const ks = v.ints('kernel_shape', kernel); // spec: inferred from W when absent
  if (ks.length !== 2 || ks[0] !== kernel[0] || ks[1] !== kernel[1])
    throw v.refuse('kernel_shape', `= ${fmtDims(ks)} differs from the weight's ${fmtDims(kernel)}`);
  const { strides, pad, pads, dilation, out } = windowOf(v, kernel, [H, Wd], true);
  const params: Record<string, Float32Array> = { weight: w.data };
  if (bName) {
    const b = g.constant(v, bName, false);
    if (b.data.length !== w.dims[0]) throw err(`${v.at} has a bias of ${b.data.length} for ${w.dims[0]} filters`);
    params.bias = b.data;
  }
  g.layer(
    v,
    x,
    {
      type: 'conv2d',
      filters: w.dims[0],
      kernel: [kernel[0], kernel[1]],
      stride: strides,
      pad: pads[0] === pads[2] && pads[1] === pads[3] ? pad : pads,
      ...(dilation.some((d) => d !== 1) ? { dilation } : {}),
      ...(group !== 1 ? { groups: group } : {}),
      bias: !!bName,
    },
    [w.dims[0], out[0], out[1]],
    params,
  );
};

const pool: Handler = (v, g) => {
  const [C, H, Wd] = g.spatial(v, v.ins[0]);
  const kernel = v.ints('kernel_shape', []); // required
  if (kernel.length !== 2 || kernel.some((k) => !(Number.isSafeInteger(k) && k >= 1)))
    throw v.refuse('kernel_shape', `= ${fmtDims(kernel)} is not a 2-D window`);
  if (v.op === 'MaxPool' && v.outs.slice(1).some((o) => o))
    throw err(`${v.at} asks for the Indices output`, 'layerhive pools return values only');
  const win = windowOf(v, kernel, [H, Wd]);
  // onnxruntime requires pads below the kernel: a window of padding alone has no value
  if (win.pads.some((p, i) => p >= kernel[i % 2]))
    throw v.refuse('pads', `${fmtDims(win.pads)} reach a whole ${fmtDims(kernel)} window into the padding`);
  // count_include_pad default 0 (spec): the average divides by the real pixels, or with 1 by the window's
  // pixels in the padded input (the layer's countPad)
  const countPad = v.op === 'AveragePool' && v.int('count_include_pad', 0) !== 0 && win.pads.some((p) => p);
  // ceil_mode default 0 (spec): with 1, out = ⌈(in + pads − k) / s⌉ + 1, less a last window that would start in
  // the padding after the input (the spec, onnxruntime); layerhive pads the end so far that floor gives it
  let out = win.out;
  const padEnd = [win.pads[2], win.pads[3]];
  if (v.int('ceil_mode', 0) !== 0) {
    out = [H, Wd].map((d, i) => {
      const s = win.strides[i],
        p0 = win.pads[i];
      const o = Math.ceil((d + p0 + win.pads[i + 2] - kernel[i]) / s) + 1;
      return (o - 1) * s >= d + p0 ? o - 1 : o;
    });
    for (const i of [0, 1])
      padEnd[i] = Math.max(padEnd[i], (out[i] - 1) * win.strides[i] + kernel[i] - [H, Wd][i] - win.pads[i]);
  }
  const pads = [win.pads[0], win.pads[1], padEnd[0], padEnd[1]] as [number, number, number, number];
  // the windows ceil_mode adds past the padding count only what is in the padded input: a divisor layerhive's
  // countPad (which counts up to the end of its padding) would get wrong
  if (countPad && (padEnd[0] > win.pads[2] || padEnd[1] > win.pads[3]))
    throw v.refuse('count_include_pad', '= 1 with ceil_mode = 1 adding a window past the padding');
  g.layer(
    v,
    v.ins[0],
    {
      type: v.op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d',
      kernel: [kernel[0], kernel[1]],
      stride: win.strides,
      pad: pads[0] === pads[2] && pads[1] === pads[3] ? win.pad : pads,
      ...(countPad ? { countPad } : {}),
    },
    [C, out[0], out[1]],
  );
};

const globalAveragePool: Handler = (v, g) => {
  const [C] = g.spatial(v, v.ins[0]);
  g.layer(v, v.ins[0], { type: 'globalavgpool' }, [C, 1, 1]);
};

/** ReduceMean over the two spatial axes of [N, C, H, W] is a global average pool (how exporters write one). */
const reduceMean: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  const C = shape[0];
  const axes = v.ins[1] ? Array.from(g.constant(v, v.ins[1], true).data) : v.ints('axes', []);
  const norm = axes.map((a) => (a < 0 ? a + shape.length + 1 : a)).sort();
  if (shape.length !== 3 || norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3)
    throw err(
      `${v.at} averages over axes ${fmtDims(axes)}; layerhive reads a mean over the spatial axes [2, 3] only`,
      'a LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div (exports before opset 17) is not read: export it ' +
        'with opset 17 or later, where it is one LayerNormalization node',
    );
  // keepdims default 1 (spec)
  if (v.int('keepdims', 1) !== 0) g.layer(v, v.ins[0], { type: 'globalavgpool' }, [C, 1, 1]);
  else {
    const mid = `${v.outs[0]}::pooled`;
    g.layer({ ...v, outs: [mid] }, v.ins[0], { type: 'globalavgpool' }, [C, 1, 1]);
    g.layer(v, mid, { type: 'flatten' }, [C]);
  }
};

const batchNorm: Handler = (v, g) => {
  const [x, ...rest] = v.ins;
  if (g.opset < 9 && v.int('spatial', 1) !== 1) throw v.refuse('spatial', '= 0: per-activation statistics');
  if (g.opset >= 14 && v.int('training_mode', 0) !== 0) throw v.refuse('training_mode', '= 1: batch statistics');
  if (v.outs.slice(1).some((o) => o)) throw err(`${v.at} asks for its training outputs`, 'export in eval mode');
  const shape = g.act(v, x).shape;
  const C = shape[0];
  const [scale, bias, mean, variance] = rest.map((r) => g.constant(v, r, false).data);
  for (const [what, t] of [
    ['scale', scale],
    ['B', bias],
    ['mean', mean],
    ['var', variance],
  ] as const)
    if (t.length !== C) throw err(`${v.at}: ${what} has ${t.length} values for ${C} channels`);
  // epsilon default 1e-5 (spec)
  g.layer(
    v,
    x,
    { type: 'batchnorm', epsilon: v.flt('epsilon', 1e-5) },
    shape,
    { gamma: scale, beta: bias },
    { runningMean: mean, runningVar: variance },
  );
};

/** LayerNormalization over the trailing axes from `axis` (default −1), epsilon default 1e-5 (spec, opset 17). */
const layerNorm: Handler = (v, g) => {
  const [x, scaleName, biasName] = v.ins;
  const shape = g.act(v, x).shape;
  const r = shape.length + 1,
    raw = v.int('axis', -1);
  const axis = raw < 0 ? raw + r : raw;
  if (!(axis >= 1 && axis < r))
    throw v.refuse('axis', `= ${raw} on [N, ${shape.join(', ')}] would normalise across the batch`);
  if (v.outs.slice(1).some((o) => o)) throw err(`${v.at} asks for its Mean or InvStdDev output`);
  const normShape = shape.slice(axis - 1),
    size = normShape.reduce((p, d) => p * d, 1);
  const wide = (name: string, what: string) => {
    const c = g.constant(v, name, false);
    if (c.data.length === size) return c.data;
    if (c.data.length === 1) return new Float32Array(size).fill(c.data[0]);
    throw err(`${v.at}: ${what} has ${c.data.length} values for the normalised shape ${fmtDims(normShape)}`);
  };
  g.layer(v, x, { type: 'layernorm', dims: r - axis, epsilon: v.flt('epsilon', 1e-5) }, shape, {
    gamma: wide(scaleName, 'Scale'),
    beta: biasName ? wide(biasName, 'B') : new Float32Array(size),
  });
};

const plain: Handler = (v, g) => {
  const type = ({ Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh', HardSwish: 'hardswish' } as const)[
    v.op as 'Relu' | 'Sigmoid' | 'Tanh' | 'HardSwish'
  ];
  g.layer(v, v.ins[0], { type }, g.act(v, v.ins[0]).shape);
};

const gelu: Handler = (v, g) => {
  // approximate default 'none' (spec, opset 20): the erf form, which layerhive's gelu computes
  const approx = v.str('approximate', 'none');
  if (approx !== 'none') throw v.refuse('approximate', `= '${approx}': layerhive's GELU is the exact (erf) one`);
  g.layer(v, v.ins[0], { type: 'gelu' }, g.act(v, v.ins[0]).shape);
};

const leakyRelu: Handler = (v, g) =>
  g.layer(v, v.ins[0], { type: 'leakyrelu', alpha: v.flt('alpha', 0.01) }, g.act(v, v.ins[0]).shape);

const hardSigmoid: Handler = (v, g) =>
  g.layer(
    v,
    v.ins[0],
    { type: 'hardsigmoid', alpha: v.flt('alpha', 0.2), beta: v.flt('beta', 0.5) },
    g.act(v, v.ins[0]).shape,
  );

/** Clip: bounds as attributes before opset 11, as optional scalar inputs after (absent: no bound). */
const clip: Handler = (v, g) => {
  const bound = (i: number, key: string, d: number) => {
    if (g.opset < 11) return v.flt(key, d);
    if (!v.ins[i]) return d;
    const c = g.constant(v, v.ins[i], false);
    if (c.data.length !== 1) throw err(`${v.at}: its ${key} '${v.ins[i]}' is not a scalar`);
    return c.data[0];
  };
  const min = bound(1, 'min', Number.NEGATIVE_INFINITY),
    max = bound(2, 'max', Number.POSITIVE_INFINITY);
  if (!(min <= max)) throw err(`${v.at} clips to [${min}, ${max}], an empty range`);
  g.layer(
    v,
    v.ins[0],
    {
      type: 'clip',
      ...(min > Number.NEGATIVE_INFINITY ? { min } : {}),
      ...(max < Number.POSITIVE_INFINITY ? { max } : {}),
    },
    g.act(v, v.ins[0]).shape,
  );
};

const dropout: Handler = (v, g) => {
  // opset 12 on: training_mode is an input (default false); a constant true would drop units at inference
  const tm = v.ins[2] ? g.constOf(v.ins[2]) : undefined;
  if (v.ins[2] && !tm?.data.every((t) => t === 0))
    throw err(`${v.at}: its training_mode input '${v.ins[2]}' is not a constant false`);
  if (v.outs.slice(1).some((o) => o)) throw err(`${v.at} asks for its mask output`, 'export in eval mode');
  g.act(v, v.ins[0]);
  g.drop(v, v.ins[0], 'inference');
};

const identity: Handler = (v, g) => {
  if (g.isConst(v.ins[0])) g.setConst(v.outs[0], g.constOf(v.ins[0])!, v);
  else {
    g.act(v, v.ins[0]);
    g.drop(v, v.ins[0], 'inference');
  }
};

/** Softmax/LogSoftmax as the graph's output over the class axis: dropped (the network returns logits). */
const softmax: Handler = (v, g) => {
  const shape = g.act(v, v.ins[0]).shape;
  if (!g.outputs.has(v.outs[0]) || g.uses(v.outs[0]) !== 1)
    throw err(`${v.at} is not the last node`, 'layerhive has no softmax layer');
  // axis default 1 before opset 13 (on the input coerced to 2-D), −1 from opset 13 (spec)
  const r = shape.length + 1,
    raw = v.int('axis', g.opset >= 13 ? -1 : 1);
  const axis = raw < 0 ? raw + r : raw;
  if (raw < -r || raw >= r || (raw < 0 && g.opset < 11))
    throw v.refuse('axis', `= ${raw} is outside the range opset ${g.opset} allows for a rank-${r} input`);
  if (r !== 2 || axis !== 1)
    throw v.refuse('axis', `= ${raw} on [N, ${shape.join(', ')}] is not over the classes of [N, classes]`);
  g.drop(v, v.ins[0], 'the final softmax');
  g.notes.pop();
  g.notes.push(
    `the final ${v.op} '${v.name}' was dropped: the network returns logits (their argmax is the same class)`,
  );
};

/** The ops that become layers (or are dropped at inference), by ONNX op type. */
export const layerOps: Record<string, Handler> = {
  Gemm: dense,
  MatMul: dense,
  Conv: conv,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Relu: plain,
  Sigmoid: plain,
  Tanh: plain,
  HardSwish: plain,
  Gelu: gelu,
  LeakyRelu: leakyRelu,
  HardSigmoid: hardSigmoid,
  Clip: clip,
  Dropout: dropout,
  Identity: identity,
  Softmax: softmax,
  LogSoftmax: softmax,
};
