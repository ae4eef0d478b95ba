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
    'Flatten, Reshape, BatchNormalization, Softmax, Dropout',
) => new LayerhiveError('DATA_INVALID', what, hint);

/**
 * An ONNX model (opsets 11–21) that is a chain of supported ops, as a layerhive network spec with its weights:
 * Gemm and MatMul(+Add) → dense, Conv → conv2d, MaxPool/AveragePool, Flatten and Reshape-to-[N, −1] → flatten,
 * Relu/Sigmoid/Tanh, BatchNormalization (inference), Dropout and Identity dropped, a final Softmax dropped (the
 * network returns logits; said in `notes`). Anything else is a DATA_INVALID error naming the node and op; bytes
 * that are not an ONNX model are an error too, never a crash.
 */
export async function importOnnx(bytes: Uint8Array): Promise<ImportedModel> {
  const { onnx }: { onnx: Onnx } = await import('./proto.js');
  let model: OnnxNamespace.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw err(`the bytes are not an ONNX model (${(e as Error).message})`, 'pass the contents of a .onnx file');
  }
  const g = model.graph;
  if (!g) throw err('the ONNX model has no graph');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain)?.version;
  const opsetN = opset === undefined || opset === null ? 0 : Number(opset);
  if (opsetN < 7 || opsetN > 21) throw err(`opset ${opsetN} is outside 7–21`, 'export with an opset between 11 and 21');
  const inits = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of g.initializer ?? []) {
    const dims = (t.dims ?? []).map(Number);
    const n = dims.reduce((p, d) => p * d, 1);
    if (!(Number.isSafeInteger(n) && n >= 0 && n <= 2 ** 28) || dims.some((d) => d < 0))
      throw err(
        `initializer '${t.name}' has dims [${dims.join(', ')}]`,
        'the file is damaged or the weight is too large to load',
      );
    let data: Float32Array;
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT && t.dataType !== onnx.TensorProto.DataType.INT64)
      throw err(`initializer '${t.name}' has data type ${t.dataType}; only float32 (and int64 shapes) are read`);
    if (t.floatData?.length) data = Float32Array.from(t.floatData);
    else if (t.int64Data?.length) data = Float32Array.from(t.int64Data.map(Number));
    else if (t.rawData?.length) {
      const raw = t.rawData;
      if (t.dataType === onnx.TensorProto.DataType.INT64) {
        const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        data = Float32Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(v.getBigInt64(i * 8, true)));
      } else {
        if (raw.byteLength !== n * 4)
          throw err(`initializer '${t.name}' holds ${raw.byteLength} bytes for ${n} floats`);
        data = new Float32Array(raw.slice().buffer);
      }
    } else data = new Float32Array(n);
    if (data.length !== n)
      throw err(`initializer '${t.name}' holds ${data.length} values for dims [${dims.join(', ')}]`);
    inits.set(t.name ?? '', { dims, data });
  }
  const inputs = (g.input ?? []).filter((i) => !inits.has(i.name ?? ''));
  if (inputs.length !== 1) throw err(`the graph has ${inputs.length} non-weight inputs; a layerhive network takes one`);
  const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  const input = dims.slice(1).map((d, k) => {
    const v = Number(d.dimValue ?? 0);
    if (!(v > 0))
      throw err(`input dimension ${k + 1} is symbolic or missing ('${d.dimParam ?? ''}'); only the batch may be`);
    return v;
  });
  if (input.length === 0) throw err('the input has no dimensions besides the batch');

  const layers: LayerSpec[] = [],
    params: Record<string, Float32Array> = {},
    buffers: Record<string, Float32Array> = {},
    notes: string[] = [];
  const attrs = (n: OnnxNamespace.INodeProto) => new Map((n.attribute ?? []).map((a) => [a.name ?? '', a]));
  const ints = (a: ReturnType<typeof attrs>, k: string, d: number[]) =>
    a.get(k)?.ints?.length ? a.get(k)!.ints!.map(Number) : d;
  const weight = (name: string, node: string) =>
    inits.get(name) ??
    (() => {
      throw err(`node '${node}' reads '${name}', which is neither the previous output nor a weight`);
    })();
  let current = inputs[0].name ?? '';
  const nodes = g.node ?? [];
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k],
      op = n.opType ?? '',
      name = n.name || `#${k}`,
      a = attrs(n);
    const [x, ...rest] = n.input ?? [];
    if (x !== current)
      throw err(
        `node '${name}' (${op}) does not continue the chain (it reads '${x}', the chain is at '${current}')`,
        'only sequential graphs are imported',
      );
    const L = layers.length;
    switch (op) {
      case 'Gemm':
      case 'MatMul': {
        const w = weight(rest[0], name);
        if (w.dims.length !== 2) throw err(`node '${name}' (${op}) has a ${w.dims.length}-D weight`);
        const transB = op === 'Gemm' && Number(a.get('transB')?.i ?? 0) === 1,
          transA = op === 'Gemm' && Number(a.get('transA')?.i ?? 0) === 1;
        if (transA) throw err(`node '${name}' (Gemm) transposes its input (transA = 1)`);
        const alpha = op === 'Gemm' ? (a.get('alpha')?.f ?? 1) : 1,
          beta = op === 'Gemm' ? (a.get('beta')?.f ?? 1) : 1;
        const [K, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
        const W = new Float32Array(K * N);
        for (let i = 0; i < K; i++)
          for (let j = 0; j < N; j++) W[i * N + j] = alpha * (transB ? w.data[j * K + i] : w.data[i * N + j]);
        let bias: Float32Array | null =
          op === 'Gemm' && rest[1] ? weight(rest[1], name).data.map((v) => v * beta) : null;
        // MatMul followed by Add of a weight vector is a dense layer with a bias
        if (
          op === 'MatMul' &&
          nodes[k + 1]?.opType === 'Add' &&
          nodes[k + 1].input?.[0] === n.output?.[0] &&
          inits.has(nodes[k + 1].input?.[1] ?? '')
        ) {
          bias = inits.get(nodes[k + 1].input![1])!.data;
          k++;
          current = nodes[k].output?.[0] ?? '';
        } else current = n.output?.[0] ?? '';
        if (bias && bias.length !== N) throw err(`node '${name}' has a bias of ${bias.length} for ${N} outputs`);
        layers.push({ type: 'dense', units: N, bias: !!bias });
        params[`${L}.weight`] = W;
        if (bias) params[`${L}.bias`] = bias.length === N ? Float32Array.from(bias) : bias;
        continue;
      }
      case 'Conv': {
        const w = weight(rest[0], name);
        if (w.dims.length !== 4) throw err(`node '${name}' (Conv) is not 2-D`);
        if (Number(a.get('group')?.i ?? 1) !== 1) throw err(`node '${name}' (Conv) is a grouped convolution`);
        if (ints(a, 'dilations', [1, 1]).some((d) => d !== 1)) throw err(`node '${name}' (Conv) is dilated`);
        const pads = ints(a, 'pads', [0, 0, 0, 0]);
        if (pads[0] !== pads[2] || pads[1] !== pads[3])
          throw err(`node '${name}' (Conv) pads unevenly [${pads.join(', ')}]`);
        if ((a.get('auto_pad')?.s?.length ?? 0) > 0 && String.fromCharCode(...a.get('auto_pad')!.s!) !== 'NOTSET')
          throw err(`node '${name}' (Conv) uses auto_pad`);
        const strides = ints(a, 'strides', [1, 1]);
        layers.push({
          type: 'conv2d',
          filters: w.dims[0],
          kernel: [w.dims[2], w.dims[3]],
          stride: [strides[0], strides[1]],
          pad: [pads[0], pads[1]],
          bias: !!rest[1],
        });
        params[`${L}.weight`] = w.data;
        if (rest[1]) params[`${L}.bias`] = weight(rest[1], name).data;
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const kernel = ints(a, 'kernel_shape', []),
          pads = ints(a, 'pads', [0, 0, 0, 0]),
          strides = ints(a, 'strides', kernel);
        if (kernel.length !== 2) throw err(`node '${name}' (${op}) is not 2-D`);
        if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw err(`node '${name}' (${op}) pads unevenly`);
        if (op === 'AveragePool' && pads.some((p) => p) && Number(a.get('count_include_pad')?.i ?? 0) === 1)
          throw err(`node '${name}' (AveragePool) counts padding`, 'layerhive averages real pixels only');
        if (Number(a.get('ceil_mode')?.i ?? 0) === 1) throw err(`node '${name}' (${op}) uses ceil_mode`);
        layers.push({
          type: op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d',
          kernel: [kernel[0], kernel[1]],
          stride: [strides[0], strides[1]],
          pad: [pads[0], pads[1]],
        });
        break;
      }
      case 'Flatten': {
        if (Number(a.get('axis')?.i ?? 1) !== 1)
          throw err(`node '${name}' (Flatten) flattens from axis ${a.get('axis')?.i}`);
        layers.push({ type: 'flatten' });
        break;
      }
      case 'Reshape': {
        const shape = weight(rest[0], name).data;
        if (!(shape.length === 2 && (shape[1] === -1 || shape[0] === -1 || shape[0] === 0)))
          throw err(`node '${name}' (Reshape) to [${Array.from(shape).join(', ')}] is not a flatten to [N, −1]`);
        layers.push({ type: 'flatten' });
        break;
      }
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
        layers.push({ type: op.toLowerCase() as 'relu' | 'sigmoid' | 'tanh' });
        break;
      case 'BatchNormalization': {
        const [scale, bias, mean, variance] = rest.map((r) => weight(r, name).data);
        layers.push({ type: 'batchnorm', epsilon: a.get('epsilon')?.f ?? 1e-5 });
        params[`${L}.gamma`] = scale;
        params[`${L}.beta`] = bias;
        buffers[`${L}.runningMean`] = mean;
        buffers[`${L}.runningVar`] = variance;
        break;
      }
      case 'Dropout':
      case 'Identity':
        notes.push(`${op} node '${name}' dropped (inference)`);
        break;
      case 'Softmax': {
        if (k !== nodes.length - 1) throw err(`node '${name}' (Softmax) is not the last node`);
        notes.push(
          `the final Softmax '${name}' was dropped: the network returns logits (their argmax is the same class)`,
        );
        break;
      }
      default:
        throw err(`node '${name}' has op ${op}, which layerhive does not import`);
    }
    current = n.output?.[0] ?? '';
  }
  const outputs = (g.output ?? []).map((o) => o.name);
  if (outputs.length !== 1) throw err(`the graph has ${outputs.length} outputs; a layerhive network has one`);
  return { spec: { input, layers }, params, buffers, notes };
}

/** The imported network built on a backend with its weights (checked against the spec's shapes). */
export async function loadOnnx(bytes: Uint8Array, backend: Backend): Promise<{ model: Sequential; notes: string[] }> {
  const m = await importOnnx(bytes);
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
): Promise<{ rule: LearningRule; config: RuleConfig; notes: string[] }> {
  const { model, notes } = await loadOnnx(bytes, backend);
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
