import type { Backend } from '../backend/backend.js';
import { fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Sequential, type ModelSpec } from '../nn/sequential.js';
import { dispose, tidy } from '../core/scope.js';
import { createRule, type RuleConfig } from '../learn/create.js';
import type { LearningRule } from '../learn/rule.js';
import { assign, tensor } from '../ops/index.js';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { normalizationHead } from './metadata.js';
import { importError as err, num } from './import-error.js';
import { readInitializers, readTensor } from './initializers.js';
import { viewNode } from './node-view.js';
import { OPSETS } from './opsets.js';
import { GraphState } from './graph-state.js';
import { layerOps } from './convert-layers.js';
import { shapeOps } from './convert-shapes.js';
import { arithmeticOps } from './convert-arith.js';
import { findGeluPatterns } from './gelu-pattern.js';
import { seriesParallel, specAndWeights } from './series-parallel.js';

type Onnx = typeof OnnxNamespace;

export { OPSETS };

export interface ImportedModel {
  spec: ModelSpec;
  /** Parameter values keyed like Sequential.namedParams (and buffers: batch-norm running statistics). */
  params: Record<string, Float32Array>;
  buffers: Record<string, Float32Array>;
  /** What the import changed or dropped, in words (a trailing Softmax, Dropout nodes). */
  notes: string[];
}

/** Options of `importOnnx`. */
export interface ImportOptions {
  /**
   * The most weight values (initializer and Constant elements, all together) a file may declare; each is checked
   * against the bytes actually present before anything is allocated. Default 67,108,864 (256 MB of float32).
   */
  maxValues?: number;
}

export const DEFAULT_MAX_VALUES = 2 ** 26;

const handlers = { ...layerOps, ...shapeOps, ...arithmeticOps };

/**
 * An ONNX model (opsets 7–25) as a layerhive network spec with its weights. Each node becomes a layer — Gemm and
 * MatMul(+Add) → dense, Conv → conv2d (grouped, depthwise, dilated, per-side pads), MaxPool/AveragePool (per-side
 * pads, ceil_mode, count_include_pad), GlobalAveragePool (and ReduceMean over H, W), Flatten/Reshape/Squeeze/
 * Unsqueeze → flatten or reshape, Transpose, Pad, BatchNormalization (inference), LayerNormalization, Relu, Clip
 * (Relu6), LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu and the erf pattern exporters write for it — or a
 * merge (residual Add, Mul, Concat over channels); shape arithmetic (Shape → Gather → Concat → Reshape) and
 * Constants are folded; Dropout and Identity are dropped, so is a final Softmax/LogSoftmax over the classes (the
 * network returns logits; said in `notes`). The graph's forks and joins become nested `branches` layers (see
 * `seriesParallel`). Every attribute is read with the operator spec's default; a value the layers cannot express is
 * a DATA_INVALID error naming the node, op and attribute, never ignored. Bytes that are not an ONNX model, inputs of
 * the wrong count, weights whose declared size is not in the file are errors too.
 */
export async function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): Promise<ImportedModel> {
  const { onnx }: { onnx: Onnx } = await import('./proto.js');
  const budget = { left: options.maxValues ?? DEFAULT_MAX_VALUES, cap: options.maxValues ?? DEFAULT_MAX_VALUES };
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
  const inits = readInitializers(onnx, g, budget);
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
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs.length !== 1) throw err(`the graph has ${outputs.length} outputs; a layerhive network has one`);

  // a layerhive export that takes pixels normalises them in its first nodes (its metadata says so): the network
  // proper starts after them, fed normalised batches as layerhive's own data pipeline makes them
  const head = normalizationHead(model);
  const nodes = (g.node ?? []).slice(head.nodes);
  const start = head.nodes > 0 ? head.input : (inputs[0].name ?? '');
  // the nodes the output depends on: the others are dropped unread, and their reads do not count as uses (a MatMul
  // read by a dead node still takes the bias Add after it)
  const producer = new Map<string, number>();
  for (const [i, n] of nodes.entries()) for (const o of n.output ?? []) if (!producer.has(o)) producer.set(o, i);
  const live = new Set<number>();
  for (const pending = [...outputs]; pending.length; ) {
    const i = producer.get(pending.pop()!);
    if (i === undefined || live.has(i)) continue;
    live.add(i);
    pending.push(...(nodes[i].input ?? []));
  }
  const uses = new Map<string, number>();
  const reads = [...nodes.filter((_, i) => live.has(i)).flatMap((n) => n.input ?? []), ...outputs];
  for (const name of reads) uses.set(name, (uses.get(name) ?? 0) + 1);
  const state = new GraphState(opsetN, batch, uses, new Set(outputs));
  if (head.nodes > 0)
    state.notes.push(
      `the graph's first ${head.nodes} nodes normalise its pixels (its metadata says so): the imported network ` +
        'starts after them and takes normalised input, as layerhive feeds it',
    );
  state.acts.set(start, { shape: [...input], from: -1 });
  for (const [name, c] of inits) state.setConst(name, c);

  /** A Constant node's value (the spec: exactly one of value, value_float(s), value_int(s)). */
  const constantValue = (n: OnnxNamespace.INodeProto, k: number) => {
    const v = viewNode(n, k, opsetN);
    const given = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'].filter((key) => v.has(key));
    if (given.length !== 1) throw err(`${v.at} sets ${given.length} of its value attributes; the spec wants one`);
    const key = given[0];
    if (key === 'value') return readTensor(onnx, v.tensor('value')!, `${v.at} value`, budget);
    const list = key.endsWith('s')
      ? key === 'value_ints'
        ? v.ints(key, [])
        : Array.from(n.attribute!.find((a) => a.name === key)!.floats ?? [])
      : [key === 'value_int' ? v.int(key, 0) : v.flt(key, 0)];
    budget.left -= list.length;
    return { dims: key.endsWith('s') ? [list.length] : [], data: Float32Array.from(list), int64: key.includes('int') };
  };
  const constantNodes = new Map<string, OnnxNamespace.INodeProto>();
  for (const n of nodes) if (n.opType === 'Constant' && !n.domain && n.output?.[0]) constantNodes.set(n.output[0], n);
  const scalar = (name: string) => {
    const c = inits.get(name);
    if (c) return c.data.length === 1 && !c.int64 ? c.data[0] : undefined;
    const n = constantNodes.get(name);
    const t = n?.attribute?.find((a) => a.name === 'value')?.t;
    if (t && (t.dims ?? []).every((d) => num(d) === 1) && t.dataType === DT.FLOAT)
      return readTensor(onnx, t, 'a constant', { left: 1, cap: 1 }).data[0];
    const f = n?.attribute?.find((a) => a.name === 'value_float');
    return f ? Number(f.f) : undefined;
  };
  const gelus = findGeluPatterns(nodes, scalar);
  const inGelu = new Map<number, (typeof gelus)[number]>();
  for (const p of gelus) for (const i of p.nodes) inGelu.set(i, p);

  for (const [k, n] of nodes.entries()) {
    // every node is checked (op, attributes, input count, an output); one the output does not depend on is dropped
    const view = viewNode(n, k + head.nodes, opsetN);
    if (!live.has(k)) {
      state.notes.push(`node '${view.name}' dropped: nothing it computes reaches the output`);
      continue;
    }
    const gelu = inGelu.get(k);
    if (gelu) {
      if (k !== gelu.last) continue;
      state.layer({ ...view, ins: [gelu.input] }, gelu.input, { type: 'gelu' }, state.act(view, gelu.input).shape);
      state.notes.push(
        `the nodes ${[...gelu.nodes].map((i) => `'${nodes[i].name || `#${i}`}'`).join(', ')} compute GELU ` +
          '(erf form): read as one gelu layer',
      );
      continue;
    }
    if (view.op === 'Constant') state.setConst(view.outs[0], constantValue(n, k + head.nodes), view);
    else if (view.op === 'Erf')
      throw err(`${view.at} is not part of a GELU x·½·(1 + erf(x/√2))`, 'layerhive has no erf layer');
    else handlers[view.op](view, state);
  }

  const out = state.resolve(outputs[0]);
  if (!state.acts.has(out))
    throw err(
      state.isConst(out)
        ? `the graph output '${outputs[0]}' is a constant`
        : `the graph output '${outputs[0]}' is not computed by any node`,
      'the file is damaged',
    );
  // IR.md: a graph output is a use and must name a definition; a graph with no nodes whose output is its input is
  // the identity, which an empty layer list computes
  if (out === start && !state.units.length)
    state.notes.push('the graph has no nodes: its output is its input (an identity network)');
  const { layers, unused } = seriesParallel(state.units, start, out);
  for (const u of unused) state.notes.push(`node '${u.node}' dropped: nothing it computes reaches the output`);
  const { specs, params, buffers } = specAndWeights(layers);
  return { spec: { input, layers: specs }, params, buffers, notes: state.notes };
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
