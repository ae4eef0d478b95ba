import type { Backend } from '../backend/backend.js';
import { fail, LayerhiveError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Sequential, type ModelSpec } from '../nn/sequential.js';
import { dispose, tidy } from '../core/scope.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { LearningRule } from '../learn/rule.js';
import { assign, tensor } from '../ops/index.js';
import type { LayerSpec } from '../nn/layer.js';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { normalizationHead } from './metadata.js';

type Onnx = typeof OnnxNamespace;

export interface ImportedModel {
  spec: ModelSpec;
  /** Parameter values keyed like Sequential.namedParams (and buffers: batch-norm running statistics). */
  params: Record<string, Float32Array>;
  buffers: Record<string, Float32Array>;
  /** What the import changed or dropped, in words (a trailing Softmax, Dropout nodes). */
  notes: string[];
}

const err = (
  what: string,
  hint = 'export the model with these ops: Gemm, MatMul, Add, Relu, Sigmoid, Tanh, Conv, MaxPool, AveragePool, ' +
    'Flatten, Reshape, BatchNormalization, Softmax, LogSoftmax, Dropout, Identity',
) => new LayerhiveError('DATA_INVALID', what, hint);

/** Options of `importOnnx`. */
export interface ImportOptions {
  /**
   * The most weight values (initializer elements, all together) a file may declare; each is checked against the
   * bytes actually present before anything is allocated. Default 67,108,864 (256 MB of float32).
   */
  maxValues?: number;
}

export const DEFAULT_MAX_VALUES = 2 ** 26;
/** The opsets whose operator versions this importer reads (the default domain). */
export const OPSETS = [7, 25] as const;

/** Inputs each op takes (min, max), as the operator spec lists them over opsets 7–25. */
const ARITY: Record<string, [number, number]> = {
  Gemm: [2, 3],
  MatMul: [2, 2],
  Conv: [2, 3],
  MaxPool: [1, 1],
  AveragePool: [1, 1],
  Flatten: [1, 1],
  Reshape: [2, 2],
  Relu: [1, 1],
  Sigmoid: [1, 1],
  Tanh: [1, 1],
  BatchNormalization: [5, 5],
  Dropout: [1, 3],
  Identity: [1, 1],
  Softmax: [1, 1],
  LogSoftmax: [1, 1],
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
  Flatten: { axis: [1] },
  Reshape: { allowzero: [14] },
  Relu: {},
  Sigmoid: {},
  Tanh: {},
  BatchNormalization: { epsilon: [1], momentum: [1], spatial: [7, 8], training_mode: [14] },
  Dropout: { ratio: [1, 11], seed: [12] },
  Identity: {},
  Softmax: { axis: [1] },
  LogSoftmax: { axis: [1] },
};

/** The type each attribute has in the spec (AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7). */
const ATTR_TYPE: Record<string, number> = {
  alpha: 1,
  beta: 1,
  epsilon: 1,
  momentum: 1,
  ratio: 1,
  auto_pad: 3,
  kernel_shape: 7,
  pads: 7,
  strides: 7,
  dilations: 7,
};

const num = (v: unknown): number => Number(v);
const fmtDims = (d: readonly number[]) => `[${d.join(', ')}]`;

/**
 * An ONNX model (opsets 7–25) that is a chain of supported ops, as a layerhive network spec with its weights:
 * Gemm and MatMul(+Add) → dense, Conv → conv2d (grouped, depthwise, dilated, per-side pads), MaxPool/AveragePool
 * (per-side pads, ceil_mode, count_include_pad), Flatten and Reshape that keep the batch and flatten the rest →
 * flatten (a Reshape to the same shape is dropped), Relu/Sigmoid/Tanh, BatchNormalization (inference), Dropout and
 * Identity dropped, a final Softmax/LogSoftmax over the class axis dropped (the network returns logits; said in
 * `notes`). Every attribute is read with the operator spec's default; a value the layers cannot express is a
 * DATA_INVALID error naming the node, op and attribute, never ignored. Bytes that are not an ONNX model, inputs of
 * the wrong count, weights whose declared size is not in the file are errors too.
 */
export async function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Promise<ImportedModel> {
  const { onnx }: { onnx: Onnx } = await import('./proto.js');
  const maxValues = options.maxValues ?? DEFAULT_MAX_VALUES;
  let model: OnnxNamespace.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw err(`the bytes are not an ONNX model (${(e as Error).message})`, 'pass the contents of a .onnx file');
  }
  const g = model.graph;
  if (!g) throw err('the ONNX model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  const opsetN = opset === undefined || opset === null ? 0 : num(opset);
  if (!(opsetN >= OPSETS[0] && opsetN <= OPSETS[1]))
    throw err(`opset ${opsetN} is outside ${OPSETS[0]}–${OPSETS[1]}`, 'export with an opset between 7 and 25');
  const DT = onnx.TensorProto.DataType;
  const inits = new Map<string, { dims: number[]; data: Float32Array; int64: boolean }>();
  let declared = 0;
  for (const t of g.initializer ?? []) {
    const dims = (t.dims ?? []).map(num);
    const tname = t.name ?? '';
    if (dims.some((d) => !(Number.isSafeInteger(d) && d >= 0)))
      throw err(`initializer '${tname}' has dims ${fmtDims(dims)}`, 'the file is damaged');
    // sizes are checked before anything is allocated: against the cap, then against the values present
    let n = 1;
    for (const d of dims) n = Math.min(n * d, Number.MAX_SAFE_INTEGER);
    declared += n;
    if (declared > maxValues)
      throw err(
        `initializer '${tname}' with dims ${fmtDims(dims)} brings the weights to ${declared} values, over the cap ` +
          `of ${maxValues}`,
        'the file is damaged, or raise the cap with the maxValues option',
      );
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || t.externalData?.length)
      throw err(
        `initializer '${tname}' keeps its values in an external file`,
        'save the model with its weights inside',
      );
    if (t.dataType !== DT.FLOAT && t.dataType !== DT.INT64)
      throw err(`initializer '${tname}' has data type ${t.dataType}; only float32 (and int64 shapes) are read`);
    const size = t.dataType === DT.FLOAT ? 4 : 8;
    const present = t.floatData?.length
      ? t.floatData.length
      : t.int64Data?.length
        ? t.int64Data.length
        : t.rawData?.length
          ? t.rawData.byteLength / size
          : 0;
    if (present !== n)
      throw err(`initializer '${tname}' declares dims ${fmtDims(dims)} (${n} values) but the file holds ${present}`);
    let data: Float32Array;
    if (t.floatData?.length) data = Float32Array.from(t.floatData);
    else if (t.int64Data?.length) data = Float32Array.from(t.int64Data.map(num));
    else if (n === 0) data = new Float32Array(0);
    else {
      const raw = t.rawData as Uint8Array;
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data =
        size === 8
          ? Float32Array.from({ length: n }, (_, i) => Number(v.getBigInt64(i * 8, true)))
          : Float32Array.from({ length: n }, (_, i) => v.getFloat32(i * 4, true));
    }
    inits.set(tname, { dims, data, int64: t.dataType === DT.INT64 });
  }
  const inputs = (g.input ?? []).filter((i) => !inits.has(i.name ?? ''));
  if (inputs.length !== 1) throw err(`the graph has ${inputs.length} non-weight inputs; a layerhive network takes one`);
  const tt = inputs[0].type?.tensorType;
  if (tt?.elemType !== undefined && tt.elemType !== null && tt.elemType !== DT.FLOAT && tt.elemType !== 0)
    throw err(`the input '${inputs[0].name}' has data type ${tt.elemType}; layerhive takes float32`);
  const dims = tt?.shape?.dim ?? [];
  const batch = dims.length && dims[0].dimValue !== null && num(dims[0].dimValue) > 0 ? num(dims[0].dimValue) : null;
  const input = dims.slice(1).map((d, k) => {
    const v = num(d.dimValue ?? 0);
    if (!(Number.isSafeInteger(v) && v > 0))
      throw err(`input dimension ${k + 1} is symbolic or missing ('${d.dimParam ?? ''}'); only the batch may be`);
    return v;
  });
  if (input.length === 0) throw err('the input has no dimensions besides the batch');

  const layers: LayerSpec[] = [],
    params: Record<string, Float32Array> = {},
    buffers: Record<string, Float32Array> = {},
    notes: string[] = [];
  // a layerhive export that takes pixels normalises them in its first nodes (its metadata says so): the network
  // proper starts after them, fed normalised batches as layerhive's own data pipeline makes them
  const head = normalizationHead(model);
  if (head.nodes > 0)
    notes.push(
      `the graph's first ${head.nodes} nodes normalise its pixels (its metadata says so): the imported network ` +
        'starts after them and takes normalised input, as layerhive feeds it',
    );
  const nodes = (g.node ?? []).slice(head.nodes);
  /** The per-sample shape of the chain's current value (without the batch). */
  let shape = [...input];
  let current = head.nodes > 0 ? head.input : (inputs[0].name ?? '');
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k],
      op = n.opType ?? '',
      name = n.name || `#${k}`,
      a = new Map((n.attribute ?? []).map((at) => [at.name ?? '', at]));
    const at = `node '${name}' (${op})`;
    const refuse = (attr: string, what: string, hint?: string) => err(`${at}: attribute ${attr} ${what}`, hint);
    const int = (key: string, d: number) => (a.has(key) ? num(a.get(key)!.i ?? 0) : d);
    const flt = (key: string, d: number) => (a.has(key) ? Number(a.get(key)!.f ?? 0) : d);
    const ints = (key: string, d: number[]) => (a.get(key)?.ints?.length ? a.get(key)!.ints!.map(num) : d);
    const str = (key: string, d: string) =>
      a.get(key)?.s?.length ? new TextDecoder().decode(a.get(key)!.s as Uint8Array) : d;
    /** A float32 weight (int64 only for Reshape's shape, read with `shapeOf`). */
    const weight = (input: string, int64 = false) => {
      const w = inits.get(input);
      if (!w) throw err(`${at} reads '${input}', which is neither the previous output nor a weight`);
      if (w.int64 !== int64)
        throw err(
          `${at} reads '${input}' as ${int64 ? 'int64' : 'float32'}, but it is ${w.int64 ? 'int64' : 'float32'}`,
        );
      return w;
    };
    if (n.domain && n.domain !== 'ai.onnx')
      throw err(`${at} is in domain '${n.domain}', which layerhive does not import`);
    const arity = ARITY[op];
    if (!arity) throw err(`node '${name}' has op ${op}, which layerhive does not import`);
    for (const key of a.keys()) {
      const since = ATTRS[op][key];
      if (!since || opsetN < since[0] || opsetN > (since[1] ?? OPSETS[1]))
        throw refuse(key, `is not an attribute of ${op} in opset ${opsetN}`, 'the file is damaged or mislabelled');
      // a value of another type would be read as the default: the one data field the spec's type has, and no other
      // (type 0 is an old file's unset type, then the field decides)
      const at = a.get(key)!;
      const want = ATTR_TYPE[key] ?? 2,
        type = num(at.type ?? 0);
      const fields = [
        ...['f', 'i', 's', 't', 'g', 'sparseTensor', 'tp'].filter((f) => Object.hasOwn(at, f)),
        ...(['floats', 'ints', 'strings', 'tensors', 'graphs', 'sparseTensors', 'typeProtos'] as const).filter(
          (f) => at[f]?.length,
        ),
      ];
      const field = { 1: 'f', 2: 'i', 3: 's', 7: 'ints' }[want];
      if ((type !== 0 && type !== want) || fields.some((f) => f !== field) || (want !== 7 && !fields.length))
        throw refuse(
          key,
          `has attribute type ${type} and fields [${fields.join(', ')}] where the spec has type ${want} (${field})`,
          'the file is damaged',
        );
    }
    // trailing empty names are omitted optional inputs (IR.md)
    const ins = [...(n.input ?? [])];
    while (ins.length && ins[ins.length - 1] === '') ins.pop();
    if (ins.length < arity[0] || ins.length > arity[1])
      throw err(
        `${at} has ${ins.length} inputs; ${op} takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]}–${arity[1]}`}`,
        'the file is damaged',
      );
    if (!n.output?.[0]) throw err(`${at} has no output`, 'the file is damaged');
    const [x, ...rest] = ins;
    if (x !== current)
      throw err(
        `${at} does not continue the chain (it reads '${x}', the chain is at '${current}')`,
        'only sequential graphs are imported',
      );
    const L = layers.length;
    const spatial = () => {
      if (shape.length !== 3) throw err(`${at} needs a [N, C, H, W] input but gets [N, ${shape.join(', ')}]`);
      return shape as [number, number, number];
    };
    /**
     * Strides, dilations, pads (before and after) and the output size of a 2-D window op, per the
     * Conv/MaxPool/AveragePool spec: strides default 1 and dilations default 1 along each spatial axis, pads
     * default 0, auto_pad default NOTSET; SAME_UPPER/SAME_LOWER pad so that out = ceil(in / stride) with total pad
     * (out − 1)·stride + K − in, K = dilation·(kernel − 1) + 1 the span of the taps (odd totals put the extra pixel
     * at the end / the beginning), VALID pads nothing. Dilations other than 1 are read for Conv (`dilated`) and
     * refused for pools.
     */
    const window = (taps: number[], hw: [number, number], dilated = false) => {
      const strides = ints('strides', [1, 1]);
      if (strides.length !== 2 || strides.some((s) => !(Number.isSafeInteger(s) && s >= 1)))
        throw refuse('strides', `= ${fmtDims(strides)} is not two positive integers`);
      const dil = ints('dilations', [1, 1]);
      if (dil.length !== 2 || dil.some((d) => !(Number.isSafeInteger(d) && d >= 1)))
        throw refuse('dilations', `= ${fmtDims(dil)} is not two positive integers`);
      if (!dilated && dil.some((d) => d !== 1))
        throw refuse('dilations', `= ${fmtDims(dil)}: layerhive's pooling windows are not dilated`);
      // the window a dilated kernel spans: d·(k − 1) + 1 pixels (what SAME pads for and the output size sees)
      const kernel = taps.map((k, i) => dil[i] * (k - 1) + 1);
      const autoPad = str('auto_pad', 'NOTSET');
      let pads = ints('pads', [0, 0, 0, 0]);
      if (pads.length !== 4 || pads.some((p) => !(Number.isSafeInteger(p) && p >= 0)))
        throw refuse('pads', `= ${fmtDims(pads)} is not four non-negative integers`);
      if (autoPad !== 'NOTSET' && pads.some((p) => p !== 0))
        throw refuse('auto_pad', `= ${autoPad} is set together with pads (the spec forbids both)`);
      if (autoPad === 'VALID') pads = [0, 0, 0, 0];
      else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        // onnxruntime refuses this pairing ("Dilation not supported for AutoPadType::SAME_UPPER or SAME_LOWER"):
        // with no runtime to agree with, the padding is not guessed
        if (dil.some((d) => d !== 1))
          throw refuse(
            'auto_pad',
            `= ${autoPad} with dilations ${fmtDims(dil)}, which onnxruntime refuses too`,
            'export with explicit pads',
          );
        const total = hw.map((d, i) => (Math.ceil(d / strides[i]) - 1) * strides[i] + kernel[i] - d);
        if (total.some((t) => t < 0))
          throw refuse('auto_pad', `= ${autoPad} asks for a negative pad ${fmtDims(total)} (stride above the kernel)`);
        const lo = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
        pads = [lo[0], lo[1], total[0] - lo[0], total[1] - lo[1]];
      } else if (autoPad !== 'NOTSET') throw refuse('auto_pad', `= '${autoPad}' is not one the spec defines`);
      const out = hw.map((d, i) => Math.floor((d + pads[i] + pads[i + 2] - kernel[i]) / strides[i]) + 1);
      if (out.some((o) => o < 1))
        throw err(`${at}: a ${fmtDims(kernel)} window does not fit the ${fmtDims(hw)} input`, 'the file is damaged');
      return {
        strides: [strides[0], strides[1]] as [number, number],
        pad: [pads[0], pads[1]] as [number, number],
        pads: [pads[0], pads[1], pads[2], pads[3]] as [number, number, number, number],
        dilation: [dil[0], dil[1]] as [number, number],
        out,
      };
    };
    switch (op) {
      case 'Gemm':
      case 'MatMul': {
        const w = weight(rest[0]);
        if (w.dims.length !== 2) throw err(`${at} has a ${w.dims.length}-D weight; layerhive reads 2-D ones`);
        if (shape.length !== 1)
          throw err(`${at} multiplies a [N, ${shape.join(', ')}] input; layerhive's dense layers take [N, features]`);
        // Gemm defaults (spec): alpha = 1, beta = 1, transA = 0, transB = 0
        const transA = op === 'Gemm' ? int('transA', 0) : 0,
          transB = op === 'Gemm' ? int('transB', 0) : 0;
        if (transA !== 0) throw refuse('transA', `= ${transA}: the batch would be transposed into the features`);
        const alpha = op === 'Gemm' ? flt('alpha', 1) : 1,
          beta = op === 'Gemm' ? flt('beta', 1) : 1;
        const [K, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
        if (K !== shape[0]) throw err(`${at} has a weight ${fmtDims(w.dims)} for ${shape[0]} input features`);
        const W = new Float32Array(K * N);
        for (let i = 0; i < K; i++)
          for (let j = 0; j < N; j++) W[i * N + j] = alpha * (transB ? w.data[j * K + i] : w.data[i * N + j]);
        /** A bias broadcastable to [N, outputs] without depending on the batch: [], [1], [outs], [1, 1], [1, outs]. */
        const biasOf = (c: { dims: number[]; data: Float32Array }, scale: number, what: string) => {
          const d = c.dims;
          if (!(d.length <= 2 && (d.length < 2 || d[0] === 1) && (d.length === 0 || [1, N].includes(d[d.length - 1]))))
            throw err(`${at}: ${what} of shape ${fmtDims(d)} does not broadcast to [N, ${N}] for every batch size`);
          return Float32Array.from({ length: N }, (_, j) => scale * c.data[c.data.length === 1 ? 0 : j]);
        };
        let bias: Float32Array | null = op === 'Gemm' && rest[1] ? biasOf(weight(rest[1]), beta, 'C') : null;
        let out = n.output[0];
        // MatMul followed by Add of a weight vector (either operand order) is a dense layer with a bias
        const next = nodes[k + 1];
        const fusable = next?.opType === 'Add' && !next.attribute?.length && !next.domain && next.input?.length === 2;
        if (op === 'MatMul' && fusable && next.input!.includes(out)) {
          const other = next.input![0] === out ? next.input![1] : next.input![0];
          if (inits.has(other) && !inits.get(other)!.int64 && next.output?.[0]) {
            bias = biasOf(inits.get(other)!, 1, `the Add '${next.name || `#${k + 1}`}' operand`);
            k++;
            out = next.output[0];
          }
        }
        layers.push({ type: 'dense', units: N, bias: !!bias });
        params[`${L}.weight`] = W;
        if (bias) params[`${L}.bias`] = bias;
        shape = [N];
        current = out;
        continue;
      }
      case 'Conv': {
        const [C, H, Wd] = spatial();
        const w = weight(rest[0]);
        if (w.dims.length !== 4) throw err(`${at} has a ${w.dims.length}-D weight; layerhive reads 2-D convolutions`);
        // group default 1 (spec): C and the filters split into `group` parts, W is [filters, C / group, kh, kw]
        const group = int('group', 1);
        if (!(Number.isSafeInteger(group) && group >= 1 && C % group === 0 && w.dims[0] % group === 0))
          throw refuse('group', `= ${group} does not divide the ${C} input channels and ${w.dims[0]} filters`);
        if (w.dims[1] * group !== C)
          throw err(
            `${at} has a weight ${fmtDims(w.dims)} for ${C} input channels${group > 1 ? ` in ${group} groups` : ''}`,
          );
        const kernel = [w.dims[2], w.dims[3]];
        const ks = ints('kernel_shape', kernel); // spec: inferred from W when absent
        if (ks.length !== 2 || ks[0] !== kernel[0] || ks[1] !== kernel[1])
          throw refuse('kernel_shape', `= ${fmtDims(ks)} differs from the weight's ${fmtDims(kernel)}`);
        const { strides, pad, pads, dilation, out } = window(kernel, [H, Wd], true);
        layers.push({
          type: 'conv2d',
          filters: w.dims[0],
          kernel: [kernel[0], kernel[1]],
          stride: strides,
          pad: pads[0] === pads[2] && pads[1] === pads[3] ? pad : pads,
          ...(dilation.some((d) => d !== 1) ? { dilation } : {}),
          ...(group !== 1 ? { groups: group } : {}),
          bias: !!rest[1],
        });
        params[`${L}.weight`] = w.data;
        if (rest[1]) {
          const b = weight(rest[1]);
          if (b.data.length !== w.dims[0]) throw err(`${at} has a bias of ${b.data.length} for ${w.dims[0]} filters`);
          params[`${L}.bias`] = b.data;
        }
        shape = [w.dims[0], out[0], out[1]];
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const [C, H, Wd] = spatial();
        const kernel = ints('kernel_shape', []); // required
        if (kernel.length !== 2 || kernel.some((v) => !(Number.isSafeInteger(v) && v >= 1)))
          throw refuse('kernel_shape', `= ${fmtDims(kernel)} is not a 2-D window`);
        if (op === 'MaxPool' && n.output.slice(1).some((o) => o))
          throw err(`${at} asks for the Indices output`, 'layerhive pools return values only');
        const win = window(kernel, [H, Wd]);
        // onnxruntime requires pads below the kernel: a window of padding alone has no value
        if (win.pads.some((p, i) => p >= kernel[i % 2]))
          throw refuse('pads', `${fmtDims(win.pads)} reach a whole ${fmtDims(kernel)} window into the padding`);
        // count_include_pad default 0 (spec): the average divides by the real pixels, or with 1 by the window's
        // pixels in the padded input (the layer's countPad)
        const countPad = op === 'AveragePool' && int('count_include_pad', 0) !== 0 && win.pads.some((p) => p);
        // ceil_mode default 0 (spec): with 1, out = ⌈(in + pads − k) / s⌉ + 1, less a last window that would start in
        // the padding after the input (the spec, onnxruntime); layerhive pads the end so far that floor gives it
        let out = win.out;
        const padEnd = [win.pads[2], win.pads[3]];
        if (int('ceil_mode', 0) !== 0) {
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
          throw refuse('count_include_pad', '= 1 with ceil_mode = 1 adding a window past the padding');
        layers.push({
          type: op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d',
          kernel: [kernel[0], kernel[1]],
          stride: win.strides,
          pad: pads[0] === pads[2] && pads[1] === pads[3] ? win.pad : pads,
          ...(countPad ? { countPad } : {}),
        });
        shape = [C, out[0], out[1]];
        break;
      }
      case 'Flatten': {
        // axis default 1 (spec); range [−r, r], negative counts from the back (opset 11 on)
        const r = shape.length + 1,
          raw = int('axis', 1);
        if (raw < -r || raw > r || (raw < 0 && opsetN < 11))
          throw refuse('axis', `= ${raw} is outside the range opset ${opsetN} allows for a rank-${r} input`);
        const axis = raw < 0 ? raw + r : raw;
        // [N, d1 … d(axis−1), …] → [N·d1⋯, rest]: a flatten that keeps the batch when d1 … d(axis−1) are all 1
        if (axis === 0 || shape.slice(0, axis - 1).some((d) => d !== 1))
          throw refuse('axis', `= ${raw} folds the batch into other dimensions (input [N, ${shape.join(', ')}])`);
        const f = shape.slice(axis - 1).reduce((p, d) => p * d, 1);
        if (shape.length !== 1) layers.push({ type: 'flatten' });
        else notes.push(`Flatten node '${name}' dropped (its input is already [N, features])`);
        shape = [f];
        break;
      }
      case 'Reshape': {
        const shapeInit = weight(rest[0], true);
        if (shapeInit.dims.length !== 1)
          throw err(`${at}: its shape '${rest[0]}' is not a 1-D int64 tensor`, 'the file is damaged');
        const target = Array.from(shapeInit.data);
        // allowzero default 0 (opset 14 on): a 0 copies the input's dimension; −1 is inferred (at most one)
        const allowZero = opsetN >= 14 ? int('allowzero', 0) : 0;
        const full = [null, ...shape]; // null: the batch
        const F = shape.reduce((p, d) => p * d, 1);
        const bad = (why: string) =>
          err(`${at}: the target shape ${fmtDims(target)} ${why} (input [N, ${shape.join(', ')}])`);
        if (target.filter((t) => t === -1).length > 1 || target.some((t) => t < -1 || !Number.isInteger(t)))
          throw bad('is not a valid shape');
        if (allowZero && target.includes(0)) throw refuse('allowzero', '= 1 with a 0 in the shape: an empty tensor');
        // the batch must stay the first dimension: 0 there copies it, −1 there equals it when the rest hold F values,
        // a number there equals it only for a fixed batch of that size
        const rest1 = target.slice(1).map((t, i) => (t === 0 ? (full[i + 1] ?? Number.NaN) : t));
        if (rest1.some((t) => Number.isNaN(t))) throw bad('copies a dimension the input does not have');
        const known = rest1.filter((t) => t !== -1).reduce((p, d) => p * d, 1);
        const t0 = target[0];
        let after: number[];
        if (t0 === 0 || (batch !== null && t0 === batch)) {
          if (rest1.includes(-1)) {
            if (known === 0 || F % known !== 0) throw bad('does not divide the input');
            after = rest1.map((t) => (t === -1 ? F / known : t));
          } else after = rest1;
          if (after.reduce((p, d) => p * d, 1) !== F) throw bad('does not hold the input’s values');
        } else if (t0 === -1) {
          if (known !== F) throw bad('does not keep the batch as the first dimension');
          after = rest1;
        } else throw bad('does not keep the batch as the first dimension');
        if (after.length === shape.length && after.every((d, i) => d === shape[i])) {
          notes.push(`Reshape node '${name}' dropped (it keeps the shape)`);
        } else if (after.length === 1) {
          layers.push({ type: 'flatten' });
          shape = [F];
        } else throw bad('is neither a flatten to [N, features] nor the same shape; layerhive has no reshape layer');
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        layers.push({ type: op.toLowerCase() as 'relu' | 'sigmoid' | 'tanh' });
        break;
      case 'BatchNormalization': {
        if (opsetN < 9 && int('spatial', 1) !== 1) throw refuse('spatial', '= 0: per-activation statistics');
        if (opsetN >= 14 && int('training_mode', 0) !== 0) throw refuse('training_mode', '= 1: batch statistics');
        const C = shape[0];
        const [scale, bias, mean, variance] = rest.map((r) => weight(r).data);
        for (const [what, v] of [
          ['scale', scale],
          ['B', bias],
          ['mean', mean],
          ['var', variance],
        ] as const)
          if (v.length !== C) throw err(`${at}: ${what} has ${v.length} values for ${C} channels`);
        layers.push({ type: 'batchnorm', epsilon: flt('epsilon', 1e-5) }); // epsilon default 1e-5 (spec)
        params[`${L}.gamma`] = scale;
        params[`${L}.beta`] = bias;
        buffers[`${L}.runningMean`] = mean;
        buffers[`${L}.runningVar`] = variance;
        break;
      }
      case 'Dropout': {
        // opset 12 on: training_mode is an input (default false); a constant true would drop units at inference
        const tm = rest[1] ? inits.get(rest[1]) : undefined;
        if (rest[1] && !tm?.data.every((v) => v === 0))
          throw err(`${at}: its training_mode input '${rest[1]}' is not a constant false`);
        notes.push(`${op} node '${name}' dropped (inference)`);
        break;
      }
      case 'Identity':
        notes.push(`${op} node '${name}' dropped (inference)`);
        break;
      case 'Softmax':
      case 'LogSoftmax': {
        if (k !== nodes.length - 1) throw err(`${at} is not the last node`, 'layerhive has no softmax layer');
        // axis default 1 before opset 13 (on the input coerced to 2-D), −1 from opset 13 (spec)
        const r = shape.length + 1,
          raw = int('axis', opsetN >= 13 ? -1 : 1);
        const axis = raw < 0 ? raw + r : raw;
        if (raw < -r || raw >= r || (raw < 0 && opsetN < 11))
          throw refuse('axis', `= ${raw} is outside the range opset ${opsetN} allows for a rank-${r} input`);
        if (r !== 2 || axis !== 1)
          throw refuse('axis', `= ${raw} on [N, ${shape.join(', ')}] is not over the classes of [N, classes]`);
        notes.push(
          `the final ${op} '${name}' was dropped: the network returns logits (their argmax is the same class)`,
        );
        break;
      }
    }
    current = n.output[0];
  }
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs.length !== 1) throw err(`the graph has ${outputs.length} outputs; a layerhive network has one`);
  // IR.md: a graph output is a use and must name a definition (a node output, a graph input or an initializer); a
  // graph with no nodes whose output is its input is the identity, which an empty layer list computes
  if (outputs[0] !== current)
    throw err(
      `the graph output '${outputs[0]}' is not what the chain produces ('${current}')`,
      'the file is damaged, or the model is not a chain',
    );
  if (nodes.length === 0) notes.push('the graph has no nodes: its output is its input (an identity network)');
  return { spec: { input, layers }, params, buffers, notes };
}

/** The imported network built on a backend with its weights (checked against the spec's shapes). */
export async function loadOnnx(
  bytes: Uint8Array,
  backend: Backend,
  options: ImportOptions = {},
): Promise<{ model: Sequential; notes: string[] }> {
  const m = await importOnnx(bytes, options);
  let model: Sequential;
  try {
    model = new Sequential(m.spec, { backend, rng: new Rng(0) });
  } catch (e) {
    throw err(`the imported layers do not fit together: ${(e as Error).message}`);
  }
  const params = model.namedParams(),
    buffers = model.namedBuffers();
  for (const [k, v] of Object.entries({ ...m.params, ...m.buffers })) {
    const t = params.get(k) ?? buffers.get(k);
    if (!t || t.size !== v.length)
      fail(
        'DATA_INVALID',
        `weight ${k} has ${v.length} values where the layer needs ${t?.size ?? 'none'}`,
        'the ONNX weights do not match their nodes',
      );
  }
  model.setParams(m.params);
  tidy(() => {
    for (const [k, v] of Object.entries(m.buffers)) {
      const t = buffers.get(k)!;
      assign(t, tensor(v, t.shape, 'float32', backend));
    }
  });
  return { model, notes: m.notes };
}

/**
 * An imported ONNX classifier as a learning rule over its layers (backprop or tpSGD: `base` gives the rule, its
 * optimizer and options), with the file's weights. Output other than class scores [N, classes] is an error.
 */
export async function ruleFromOnnx(
  bytes: Uint8Array,
  backend: Backend,
  base: Omit<RuleConfig, 'layers' | 'inputShape' | 'classes'>,
  options: ImportOptions = {},
): Promise<{ rule: LearningRule; config: RuleConfig; notes: string[] }> {
  const { model, notes } = await loadOnnx(bytes, backend, options);
  const imported = [...model.namedParams().values(), ...model.namedBuffers().values()];
  try {
    const [classes, ...rest] = model.outputShape;
    if (rest.length)
      throw err(
        `the model outputs [N, ${model.outputShape.join(', ')}], not class scores [N, classes]`,
        'import a classifier',
      );
    const config: RuleConfig = { ...base, layers: model.spec.layers, inputShape: [...model.spec.input], classes };
    const rule = createRule(config, backend);
    const params = model.namedParams(),
      buffers = model.namedBuffers();
    tidy(() => {
      for (const [k, t] of rule.params()) assign(t, params.get(k)!);
      for (const [k, t] of rule.buffers()) {
        const b = buffers.get(k);
        if (b) assign(t, b);
      } // tpSGD's projections are its own
    });
    return { rule, config, notes };
  } finally {
    dispose(imported);
  }
}
