import type { onnx as OnnxNamespace } from 'onnx-proto';
import { importError as err, num } from './import-error.js';
import { OPSETS } from './opsets.js';

/** Inputs each op takes (min, max) in a given opset, as the operator spec lists them over opsets 7–25. */
function arity(op: string, opset: number): [number, number] | undefined {
  const many = Number.MAX_SAFE_INTEGER;
  switch (op) {
    case 'Unsqueeze':
      return opset >= 13 ? [2, 2] : [1, 1];
    case 'Squeeze':
      return opset >= 13 ? [1, 2] : [1, 1];
    case 'Clip':
      return opset >= 11 ? [1, 3] : [1, 1];
    case 'Pad':
      return opset >= 18 ? [2, 4] : opset >= 11 ? [2, 3] : [1, 1];
    case 'ReduceMean':
      return opset >= 18 ? [1, 2] : [1, 1];
    case 'Concat':
      return [1, many];
    case 'Gemm':
      return opset >= 11 ? [2, 3] : [3, 3]; // C optional from Gemm-11
  }
  return ARITY[op];
}

const ARITY: Record<string, [number, number]> = {
  Gemm: [2, 3],
  MatMul: [2, 2],
  Conv: [2, 3],
  MaxPool: [1, 1],
  AveragePool: [1, 1],
  GlobalAveragePool: [1, 1],
  Flatten: [1, 1],
  Reshape: [2, 2],
  Transpose: [1, 1],
  Relu: [1, 1],
  Sigmoid: [1, 1],
  Tanh: [1, 1],
  LeakyRelu: [1, 1],
  HardSigmoid: [1, 1],
  HardSwish: [1, 1],
  Gelu: [1, 1],
  Erf: [1, 1],
  BatchNormalization: [5, 5],
  LayerNormalization: [2, 3],
  Dropout: [1, 3],
  Identity: [1, 1],
  Softmax: [1, 1],
  LogSoftmax: [1, 1],
  Add: [2, 2],
  Sub: [2, 2],
  Mul: [2, 2],
  Div: [2, 2],
  Constant: [0, 0],
  Shape: [1, 1],
  Gather: [2, 2],
  Cast: [1, 1],
};

/**
 * The attributes each op has, with the opset that introduced (and, after it, the last that kept) each, from the
 * operator changelog; any other attribute is a typed error, never ignored.
 */
const window2d: Record<string, [number, number?]> = { auto_pad: [1], kernel_shape: [1], pads: [1], strides: [1] };
const ATTRS: Record<string, Record<string, [number, number?]>> = {
  Gemm: { alpha: [1], beta: [1], transA: [1], transB: [1] },
  MatMul: {},
  Conv: { ...window2d, dilations: [1], group: [1] },
  MaxPool: { ...window2d, storage_order: [8], ceil_mode: [10], dilations: [10] },
  AveragePool: { ...window2d, count_include_pad: [7], ceil_mode: [10], dilations: [19] },
  GlobalAveragePool: {},
  ReduceMean: { axes: [1, 17], keepdims: [1], noop_with_empty_axes: [18] },
  Flatten: { axis: [1] },
  Reshape: { allowzero: [14] },
  Transpose: { perm: [1] },
  Squeeze: { axes: [1, 12] },
  Unsqueeze: { axes: [1, 12] },
  Pad: { mode: [1], pads: [1, 10], value: [1, 10] },
  Relu: {},
  Sigmoid: {},
  Tanh: {},
  Clip: { min: [1, 10], max: [1, 10] },
  LeakyRelu: { alpha: [1] },
  HardSigmoid: { alpha: [1], beta: [1] },
  HardSwish: {},
  Gelu: { approximate: [20] },
  Erf: {},
  BatchNormalization: { epsilon: [1], momentum: [1], spatial: [7, 8], training_mode: [14] },
  LayerNormalization: { axis: [17], epsilon: [17], stash_type: [17] },
  Dropout: { ratio: [1, 11], seed: [12] },
  Identity: {},
  Softmax: { axis: [1] },
  LogSoftmax: { axis: [1] },
  Add: {},
  Sub: {},
  Mul: {},
  Div: {},
  Concat: { axis: [1] },
  Constant: { value: [1], value_float: [12], value_floats: [12], value_int: [12], value_ints: [12] },
  Shape: { start: [15], end: [15] },
  Gather: { axis: [1] },
  Cast: { to: [1], saturate: [19] },
};

/** The opset that introduced each op (the importer refuses an op its file's opset does not have). */
const SINCE: Record<string, number> = { HardSwish: 14, Gelu: 20, LayerNormalization: 17, Erf: 9 };

/**
 * The type each attribute has in the spec (AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4,
 * FLOATS 6, INTS 7).
 */
const ATTR_TYPE: Record<string, number> = {
  alpha: 1,
  beta: 1,
  epsilon: 1,
  momentum: 1,
  ratio: 1,
  min: 1,
  max: 1,
  value_float: 1,
  auto_pad: 3,
  mode: 3,
  approximate: 3,
  value: 4,
  value_floats: 6,
  kernel_shape: 7,
  pads: 7,
  strides: 7,
  dilations: 7,
  perm: 7,
  axes: 7,
  value_ints: 7,
};
/** Where an op's attribute of a name has another type than the table's. */
const ATTR_TYPE_OF: Record<string, Record<string, number>> = { Pad: { value: 1 } };
const FIELD: Record<number, string> = { 1: 'f', 2: 'i', 3: 's', 4: 't', 6: 'floats', 7: 'ints' };

/** One node read: its op, name, inputs (omitted optional ones trimmed), attributes with the spec's defaults. */
export interface NodeView {
  op: string;
  name: string;
  /** `node 'name' (Op)`, to start an error message. */
  at: string;
  ins: string[];
  outs: string[];
  has(key: string): boolean;
  int(key: string, d: number): number;
  flt(key: string, d: number): number;
  ints(key: string, d: number[]): number[];
  str(key: string, d: string): string;
  tensor(key: string): OnnxNamespace.ITensorProto | undefined;
  /** An error about an attribute's value. */
  refuse(attr: string, what: string, hint?: string): Error;
}

/**
 * A node checked against the spec: a known op of the default domain in this opset, every attribute one the op has
 * in this opset with the type the spec gives it, the input count the op takes, an output.
 */
export function viewNode(n: OnnxNamespace.INodeProto, k: number, opset: number): NodeView {
  const op = n.opType ?? '',
    name = n.name || `#${k}`,
    a = new Map((n.attribute ?? []).map((at) => [at.name ?? '', at]));
  const at = `node '${name}' (${op})`;
  if (n.domain && n.domain !== 'ai.onnx')
    throw err(`${at} is in domain '${n.domain}', which layerhive does not import`);
  const ar = arity(op, opset);
  if (!ar || !ATTRS[op]) throw err(`node '${name}' has op ${op}, which layerhive does not import`);
  if ((SINCE[op] ?? 1) > opset) throw err(`${at} is not an op of opset ${opset}`, 'the file is damaged or mislabelled');
  const refuse = (attr: string, what: string, hint?: string) => err(`${at}: attribute ${attr} ${what}`, hint);
  for (const key of a.keys()) {
    const since = ATTRS[op][key];
    if (!since || opset < since[0] || opset > (since[1] ?? OPSETS[1]))
      throw refuse(key, `is not an attribute of ${op} in opset ${opset}`, 'the file is damaged or mislabelled');
    // a value of another type would be read as the default: the one data field the spec's type has, and no other
    // (type 0 is an old file's unset type, then the field decides)
    const attr = a.get(key)!;
    const want = ATTR_TYPE_OF[op]?.[key] ?? ATTR_TYPE[key] ?? 2,
      type = num(attr.type ?? 0);
    const fields = [
      ...['f', 'i', 's', 't', 'g', 'sparseTensor', 'tp'].filter((f) => Object.hasOwn(attr, f)),
      ...(['floats', 'ints', 'strings', 'tensors', 'graphs', 'sparseTensors', 'typeProtos'] as const).filter(
        (f) => attr[f]?.length,
      ),
    ];
    const field = FIELD[want];
    const list = want === 6 || want === 7;
    if ((type !== 0 && type !== want) || fields.some((f) => f !== field) || (!list && !fields.length))
      throw refuse(
        key,
        `has attribute type ${type} and fields [${fields.join(', ')}] where the spec has type ${want} (${field})`,
        'the file is damaged',
      );
  }
  // trailing empty names are omitted optional inputs (IR.md)
  const ins = [...(n.input ?? [])];
  while (ins.length && ins[ins.length - 1] === '') ins.pop();
  const upTo = ar[1] === Number.MAX_SAFE_INTEGER ? 'any' : ar[1];
  if (ins.length < ar[0] || ins.length > ar[1])
    throw err(
      `${at} has ${ins.length} inputs; ${op} takes ${ar[0] === ar[1] ? ar[0] : `${ar[0]}–${upTo}`}`,
      'the file is damaged',
    );
  if (!n.output?.[0]) throw err(`${at} has no output`, 'the file is damaged');
  return {
    op,
    name,
    at,
    ins,
    outs: [...n.output],
    has: (key) => a.has(key),
    int: (key, d) => (a.has(key) ? num(a.get(key)!.i ?? 0) : d),
    flt: (key, d) => (a.has(key) ? Number(a.get(key)!.f ?? 0) : d),
    ints: (key, d) => (a.get(key)?.ints?.length ? a.get(key)!.ints!.map(num) : d),
    str: (key, d) => (a.get(key)?.s?.length ? new TextDecoder().decode(a.get(key)!.s as Uint8Array) : d),
    tensor: (key) => a.get(key)?.t ?? undefined,
    refuse,
  };
}
