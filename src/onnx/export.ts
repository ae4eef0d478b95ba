import { fail } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Sequential } from '../nn/sequential.js';
import type { LayerStack } from '../nn/stack.js';
import type { LayerSpec } from '../nn/layer.js';
import type { Branches } from '../nn/layers/branches.js';
import type { LearningRule } from '../learn/rule.js';
import { dtStep, NoPropDT, type DTOps } from '../learn/noprop/dt.js';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { MNIST_NORMALIZATION, type Normalization } from '../data/batches.js';
import type { ModelContract } from './contract.js';
import { contractProps } from './metadata.js';
import { LAYERHIVE_VERSION } from './version.js';
import { convPads } from '../ops/conv-pads.js';
import { recurrentNodes } from './export-recurrent.js';
import type { RecurrentLayer } from '../nn/layers/recurrent.js';

type Onnx = typeof OnnxNamespace;
type Node = InstanceType<Onnx['NodeProto']>;
type Init = InstanceType<Onnx['TensorProto']>;
type Attr = InstanceType<Onnx['AttributeProto']>;
/** Values computed when the file is written: a parameter re-laid out (recurrent layers' gate blocks). */
type LazyValues = () => Promise<Float32Array>;
const pair = (v: number | [number, number] | undefined, d: [number, number]): [number, number] =>
  v === undefined ? d : typeof v === 'number' ? [v, v] : v;

export interface ExportOptions {
  /** Graph name (default 'layerhive'). */
  name?: string;
  /** Names of the graph's input and output (default 'input', 'logits'). */
  inputName?: string;
  outputName?: string;
  /** A Sequential's first `upTo` layers only (a frozen feature extractor for `FrozenStage`); default all. */
  upTo?: number;
  /**
   * What the graph takes. 'pixels': float pixels v / 255 in [0, 1], [N, C, H, W]; the normalisation the network
   * was trained with is the graph's first nodes (Sub, Div), so any runtime fed plain pixels computes what layerhive
   * does. 'normalized': the network's own input, (v / 255 − mean) / std, as layerhive's batches feed it (every
   * export before contracts). Default 'pixels' for a learning rule (the trainer fed it normalised images) or when
   * `normalization` is given; 'normalized' for a bare Sequential without `normalization` (its data is not known)
   * and for a truncated network (`upTo`: a feature stage that layerhive's own batches feed).
   */
  input?: 'pixels' | 'normalized';
  /**
   * The normalisation the network was trained with: for a learning rule MNIST_NORMALIZATION by default (what the
   * trainer, the CLI and the app apply unless told otherwise); UNIT_SCALE for a network trained on v / 255.
   */
  normalization?: Normalization;
  /** Class names in output order, for the metadata (default '0', '1', …; for MNIST the digits). */
  classNames?: string[];
}

/**
 * Nodes and initializers of a graph under construction, every name prefixed so that sub-networks do not clash.
 * Building is synchronous (so that NoProp-DT's inference step, `dtStep`, can build it as it computes tensors);
 * initializers' values are read from their tensors once, at the end (`initializers`).
 */
class GraphBuilder {
  readonly nodes: Node[] = [];
  private readonly pending: { name: string; dims: number[]; values: Tensor | Float32Array | LazyValues }[] = [];
  private readonly int64s: Init[] = [];
  constructor(readonly onnx: Onnx) {}

  init(name: string, t: Tensor | Float32Array | LazyValues, dims?: number[]): string {
    this.pending.push({ name, dims: dims ?? [...(t as Tensor).shape], values: t });
    return name;
  }

  scalar(name: string, v: number): string {
    return this.init(name, Float32Array.of(v), []);
  }

  /** A 1-D int64 initializer (shapes, pads). */
  int64(name: string, values: number[]): string {
    const { TensorProto } = this.onnx;
    this.int64s.push(
      TensorProto.create({ name, dataType: TensorProto.DataType.INT64, dims: [values.length], int64Data: values }),
    );
    return name;
  }

  /** Every initializer with its values (read from the device now). */
  async initializers(): Promise<Init[]> {
    const floats = await Promise.all(
      this.pending.map(async ({ name, dims, values }) =>
        this.onnx.TensorProto.create({
          name,
          dataType: this.onnx.TensorProto.DataType.FLOAT,
          dims,
          floatData: Array.from(
            values instanceof Float32Array
              ? values
              : typeof values === 'function'
                ? await values()
                : ((await values.data()) as Float32Array),
          ),
        }),
      ),
    );
    return [...floats, ...this.int64s];
  }

  node(opType: string, input: string[], output: string, attribute: Attr[] = []): string {
    this.nodes.push(this.onnx.NodeProto.create({ opType, input, output: [output], name: output, attribute }));
    return output;
  }

  ints(name: string, ints: number[]): Attr {
    return this.onnx.AttributeProto.create({ name, type: this.onnx.AttributeProto.AttributeType.INTS, ints });
  }
  int(name: string, i: number): Attr {
    return this.onnx.AttributeProto.create({ name, type: this.onnx.AttributeProto.AttributeType.INT, i });
  }
  float(name: string, f: number): Attr {
    return this.onnx.AttributeProto.create({ name, type: this.onnx.AttributeProto.AttributeType.FLOAT, f });
  }

  /** The layers of `model` applied to `input`; node and weight names start with `prefix`; returns the output's name. */
  sequential(model: LayerStack, input: string, prefix: string, upTo = model.layers.length): string {
    let h = input;
    for (const [i, layer] of model.layers.slice(0, upTo).entries()) {
      const spec: LayerSpec = layer.spec,
        out = `${prefix}h${i}`,
        p = (k: string) => layer.params.get(k),
        n = (k: string) => `${prefix}${k}${i}`;
      switch (spec.type) {
        case 'flatten':
          this.node('Flatten', [h], out, [this.int('axis', 1)]);
          break;
        case 'dense': {
          const inputs = [h, this.init(n('w'), p('weight')!)];
          if (layer.inputShape.length === 1) {
            if (p('bias')) inputs.push(this.init(n('b'), p('bias')!));
            this.node('Gemm', inputs, out);
          } else if (!p('bias')) this.node('MatMul', inputs, out);
          else {
            // over the last axis of [N, …, in]: MatMul broadcasts the leading axes, Add the bias
            this.node('MatMul', inputs, `${out}_xw`);
            this.node('Add', [`${out}_xw`, this.init(n('b'), p('bias')!)], out);
          }
          break;
        }
        case 'conv2d': {
          const w = p('weight')!,
            stride = pair(spec.stride, [1, 1]),
            [pad, padEnd] = convPads(`layer ${prefix}${i}`, spec.pad);
          const inputs = [h, this.init(n('w'), w)];
          if (p('bias')) inputs.push(this.init(n('b'), p('bias')!));
          const dilation = pair(spec.dilation, [1, 1]),
            groups = spec.groups ?? 1;
          this.node('Conv', inputs, out, [
            this.ints('kernel_shape', [w.shape[2], w.shape[3]]),
            this.ints('strides', stride),
            this.ints('pads', [...pad, ...padEnd]),
            // the spec's defaults (1) are left implicit, as exporters write them
            ...(dilation.some((d) => d !== 1) ? [this.ints('dilations', dilation)] : []),
            ...(groups !== 1 ? [this.int('group', groups)] : []),
          ]);
          break;
        }
        case 'maxpool2d':
        case 'avgpool2d': {
          const kernel = pair(spec.kernel, [1, 1]),
            stride = pair(spec.stride, kernel),
            [pad, padEnd] = convPads(`layer ${prefix}${i}`, spec.pad);
          const a = [
            this.ints('kernel_shape', kernel),
            this.ints('strides', stride),
            this.ints('pads', [...pad, ...padEnd]),
          ];
          this.node(
            spec.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool',
            [h],
            out,
            spec.type === 'avgpool2d' ? [...a, this.int('count_include_pad', spec.countPad ? 1 : 0)] : a,
          );
          break;
        }
        case 'relu':
          this.node('Relu', [h], out);
          break;
        case 'sigmoid':
          this.node('Sigmoid', [h], out);
          break;
        case 'tanh':
          this.node('Tanh', [h], out);
          break;
        case 'hardswish':
          this.node('HardSwish', [h], out);
          break;
        case 'clip': {
          const lo = spec.min ?? -Infinity,
            hi = spec.max ?? Infinity;
          // an absent bound is an empty input name (min) or no input (max)
          const inputs = [h, lo > -Infinity ? this.scalar(n('min'), lo) : ''];
          if (hi < Infinity) inputs.push(this.scalar(n('max'), hi));
          this.node('Clip', inputs[inputs.length - 1] === '' ? [h] : inputs, out);
          break;
        }
        case 'leakyrelu':
          this.node('LeakyRelu', [h], out, [this.float('alpha', spec.alpha ?? 0.01)]);
          break;
        case 'hardsigmoid':
          this.node('HardSigmoid', [h], out, [
            this.float('alpha', spec.alpha ?? 0.2),
            this.float('beta', spec.beta ?? 0.5),
          ]);
          break;
        case 'pad': {
          const r = layer.inputShape.length;
          this.node(
            'Pad',
            [
              h,
              this.int64(n('pads'), [0, ...spec.pads.slice(0, r), 0, ...spec.pads.slice(r)]),
              this.scalar(n('pad_value'), spec.value ?? 0),
            ],
            out,
          );
          break;
        }
        case 'layernorm':
          this.node(
            'LayerNormalization',
            [h, this.init(n('gamma'), p('gamma')!), this.init(n('beta'), p('beta')!)],
            out,
            [this.int('axis', -(spec.dims ?? 1)), this.float('epsilon', spec.epsilon ?? 1e-5)],
          );
          break;
        case 'globalavgpool':
          this.node('GlobalAveragePool', [h], out);
          break;
        case 'reshape':
          // 0 copies the input's dimension (allowzero 0): the symbolic batch
          this.node('Reshape', [h, this.int64(n('shape'), [0, ...spec.shape])], out);
          break;
        case 'transpose':
          this.node('Transpose', [h], out, [this.ints('perm', [0, ...spec.perm.map((a) => a + 1)])]);
          break;
        case 'gelu': {
          const div = this.node('Div', [h, this.scalar(n('sqrt2_'), Math.SQRT2)], n('gelu_div'));
          const add = this.node(
            'Add',
            [this.node('Erf', [div], n('gelu_erf')), this.scalar(n('one_'), 1)],
            n('gelu_add'),
          );
          this.node('Mul', [this.node('Mul', [h, add], n('gelu_mul')), this.scalar(n('half_'), 0.5)], out);
          break;
        }
        case 'batchnorm': {
          const b = (k: string) => layer.buffers.get(k)!;
          this.node(
            'BatchNormalization',
            [
              h,
              this.init(n('gamma'), p('gamma')!),
              this.init(n('beta'), p('beta')!),
              this.init(n('mean'), b('runningMean')),
              this.init(n('var'), b('runningVar')),
            ],
            out,
            [this.float('epsilon', spec.epsilon ?? 1e-5)],
          );
          break;
        }
        case 'dropout':
          this.node('Identity', [h], out);
          break;
        case 'rnn':
        case 'gru':
          recurrentNodes(this, layer as RecurrentLayer, h, out, n);
          break;
        case 'branches': {
          const ys: string[] = [],
            rank = layer.outputShape.length;
          for (const [b, branch] of (layer as Branches).branches.entries()) {
            const y = this.sequential(branch, h, `${prefix}${i}.${b}.`),
              s = branch.outputShape;
            // ONNX broadcasting aligns trailing axes, the batch included: a lower-rank branch gains 1s after the batch
            ys.push(
              spec.merge === 'concat' || s.length === rank
                ? y
                : this.node(
                    'Reshape',
                    [y, this.int64(`${prefix}${i}.${b}.aligned_shape`, [0, ...Array(rank - s.length).fill(1), ...s])],
                    `${prefix}${i}.${b}.aligned`,
                  ),
            );
          }
          const op = spec.merge === 'mul' ? 'Mul' : 'Add';
          if (spec.merge === 'concat') this.node('Concat', ys, out, [this.int('axis', 1)]);
          else
            ys.slice(1).reduce(
              (acc, y, k) =>
                this.node(op, [acc, y], k === ys.length - 2 ? out : `${out}_${op === 'Mul' ? 'prod' : 'sum'}${k}`),
              ys[0],
            );
          if (ys.length === 1) this.node('Identity', ys, out);
          break;
        }
        default:
          fail(
            'INVALID_ARGUMENT',
            `layer ${prefix}${i} (${spec.type}) has no ONNX export`,
            'export networks of the layers that have one: every type but embedding',
          );
      }
      h = out;
    }
    return h;
  }
}

/**
 * NoProp-DT's inference unrolled: the rule's own description of it (`rule.inference()`), each step built by the
 * `dtStep` that `rule.predict` runs, on graph nodes instead of tensors — z ← a_t·(softmax(block_t(x, z))·W) + b_t·z
 * for t = 1 … T from z_0, then the head. z_0 is the graph's second input `noise` [N, d]: `rule.initialNoise(N)` gives
 * layerhive's own (one N(0, I) row repeated on every row, so each row's output depends on its own image only), and
 * the file then computes exactly what `rule.predict` does.
 */
function noPropDT(g: GraphBuilder, rule: NoPropDT, input: string, noise: string): string {
  const plan = rule.inference();
  if (plan.steps.some((s) => s.noise > 0))
    fail(
      'INVALID_ARGUMENT',
      'this NoProp-DT rule adds fresh noise at every inference step, which an ONNX graph cannot reproduce',
      'export a rule created with inferenceNoise off (the default)',
    );
  const W = g.init('embedding', plan.embedding);
  const p = (t: number) => `block${t}.`;
  const names = { a: 'au', b: 'bz', noise: 'ce', z: 'z' } as const;
  const ops: DTOps<string> = {
    logits: ({ t, block }, x, z) =>
      g.sequential(
        block.fused,
        g.node(
          'Concat',
          [g.sequential(block.image, x, `${p(t)}image.`), g.sequential(block.label, z, `${p(t)}label.`)],
          `${p(t)}concat`,
          [g.int('axis', 1)],
        ),
        `${p(t)}fused.`,
      ),
    softmax: ({ t }, v) => g.node('Softmax', [v], `${p(t)}softmax`, [g.int('axis', 1)]),
    embed: ({ t }, v) => g.node('MatMul', [v, W], `${p(t)}u`),
    scale: ({ t }, v, by, what) => g.node('Mul', [v, g.scalar(`${p(t)}${what}`, by)], `${p(t)}${names[what]}`),
    add: ({ t }, u, v, what) => g.node('Add', [u, v], `${p(t)}${names[what]}`),
    noise: () => fail('INVALID_ARGUMENT', 'an ONNX graph has no inference noise', 'export with inferenceNoise off'),
  };
  let z = noise;
  for (const step of plan.steps) z = dtStep(ops, step, input, z);
  return g.sequential(plan.head, z, 'head.');
}

/**
 * A network as an ONNX model (opset 17, IR 8): the batch dimension is symbolic ('N'), weights are initializers.
 * Takes a Sequential, a backprop/tpSGD rule (its network), or a NoProp-DT rule (inference unrolled, with a second
 * input `noise`, see noPropDT). Dense → Gemm, conv2d → Conv, pooling → MaxPool/AveragePool (padding not counted),
 * flatten → Flatten, activations → Relu/Sigmoid/Tanh/HardSwish/Clip/LeakyRelu/HardSigmoid and GELU as
 * x·½(1 + erf(x/√2)), pad → Pad, layernorm → LayerNormalization, globalavgpool → GlobalAveragePool, reshape →
 * Reshape (0 keeps the batch), transpose → Transpose, batch norm → BatchNormalization (running statistics), dropout →
 * Identity, branches → their stacks joined by Concat, Add or Mul (broadcasting).
 * Anything else is a typed error naming it. A learning rule's graph takes float pixels in [0, 1] and normalises them
 * in its first nodes (`input`, `normalization`); every file carries its contract in `metadata_props` (input layout,
 * range and normalisation, class names, the rule, layerhive's version, NoProp-DT's noise): `readContract` reads it.
 */
export async function exportOnnx(target: Sequential | LearningRule, o: ExportOptions = {}): Promise<Uint8Array> {
  // the schema (~0.7 MB of generated code) loads only when a model is exported
  const { onnx }: { onnx: Onnx } = await import('./proto.js');
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const g = new GraphBuilder(onnx);
  const inputName = o.inputName ?? 'input',
    outputName = o.outputName ?? 'logits';
  const seq = target instanceof Sequential ? target : (target as { model?: unknown }).model;
  const info = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: FLOAT,
          shape: onnx.TensorShapeProto.create({
            dim: dims.map((d) =>
              onnx.TensorShapeProto.Dimension.create(typeof d === 'string' ? { dimParam: d } : { dimValue: d }),
            ),
          }),
        }),
      }),
    });
  const isRule = !(target instanceof Sequential);
  const norm = o.normalization ?? (isRule ? MNIST_NORMALIZATION : undefined);
  const kind = o.input ?? (norm && o.upTo === undefined ? 'pixels' : 'normalized');
  if (kind === 'pixels' && !norm)
    fail(
      'INVALID_ARGUMENT',
      "input 'pixels' needs the normalisation the network was trained with, and a bare Sequential does not say",
      'pass normalization (MNIST_NORMALIZATION, UNIT_SCALE, or your mean and std)',
    );
  if (norm && !(Number.isFinite(norm.mean) && norm.std > 0 && Number.isFinite(norm.std)))
    fail(
      'INVALID_ARGUMENT',
      `normalisation mean ${norm.mean}, std ${norm.std} is not usable`,
      'use a finite mean and a positive finite std, such as MNIST_NORMALIZATION',
    );
  // Pixels become what the network was trained on, (x − mean) / std, as the graph's first nodes. Sub then Div (not
  // one Mul + Add) rounds as layerhive's own table does, so ONNX and `evaluate` see the same inputs to an ulp.
  // UNIT_SCALE needs no nodes: pixels are already the network's input.
  const netInput =
    kind === 'pixels' && norm && !(norm.mean === 0 && norm.std === 1)
      ? g.node(
          'Div',
          [
            g.node('Sub', [inputName, g.scalar('pixel_mean', norm.mean)], 'pixels_centred'),
            g.scalar('pixel_std', norm.std),
          ],
          'normalized_input',
        )
      : inputName;
  let out: string, inputs: ReturnType<typeof info>[], outDims: number[];
  let noiseRow: number[] | null = null,
    truncated = false;
  if (seq instanceof Sequential) {
    const upTo = o.upTo ?? seq.layers.length;
    if (!(Number.isInteger(upTo) && upTo >= Math.min(1, seq.layers.length) && upTo <= seq.layers.length))
      fail(
        'INVALID_ARGUMENT',
        `upTo ${upTo} is not a layer count in [1, ${seq.layers.length}]`,
        'pass how many of the first layers to export',
      );
    out = g.sequential(seq, netInput, '', upTo);
    truncated = upTo < seq.layers.length;
    inputs = [info(inputName, ['N', ...seq.spec.input])];
    outDims = [...(upTo ? seq.layers[upTo - 1].outputShape : seq.spec.input)];
  } else if (target instanceof NoPropDT) {
    out = noPropDT(g, target, netInput, 'noise');
    const { z } = target.initialNoise(1);
    noiseRow = Array.from((await z.data()) as Float32Array);
    z.dispose();
    inputs = [
      info(inputName, ['N', ...target.blocks[0].image.spec.input]),
      info('noise', ['N', target.embedding.shape[1]]),
    ];
    outDims = [...target.head.outputShape];
  } else {
    return fail(
      'INVALID_ARGUMENT',
      `a ${(target as LearningRule).name} model has no ONNX export yet`,
      'export a Sequential, a backprop or tpsgd rule, or a noprop-dt rule',
    );
  }
  // the last node writes the graph's output
  const last = g.nodes.at(-1);
  if (last && last.output[0] === out) last.output = [outputName];
  else g.node('Identity', [out], outputName);
  const graph = onnx.GraphProto.create({
    name: o.name ?? 'layerhive',
    node: g.nodes,
    initializer: await g.initializers(),
    input: inputs,
    output: [info(outputName, ['N', ...outDims])],
  });
  const inShape = inputs[0].type!.tensorType!.shape!.dim!.slice(1).map((d) => Number(d.dimValue));
  // a truncated network gives features, not class scores: no class names
  const classes = outDims.length === 1 && !truncated ? outDims[0] : 0;
  if (o.classNames && o.classNames.length !== classes)
    fail(
      'INVALID_ARGUMENT',
      `${o.classNames.length} class names for ${classes ? `${classes} classes` : 'an output that is not class scores'}`,
      'pass one name per output class, in order',
    );
  const contract: ModelContract = {
    format: 1,
    layerhiveVersion: LAYERHIVE_VERSION,
    rule: isRule ? (target as LearningRule).name : null,
    input: {
      name: inputName,
      layout:
        inShape.length === 3
          ? 'NCHW'
          : inShape.length === 1
            ? 'NC'
            : ['N', ...inShape.map((_, k) => `D${k + 1}`)].join(''),
      kind: norm ? kind : 'unknown',
      range: norm ? (kind === 'pixels' ? [0, 1] : [(0 - norm.mean) / norm.std, (1 - norm.mean) / norm.std]) : null,
      normalization: norm
        ? { mean: norm.mean, std: norm.std, appliedBy: kind === 'pixels' ? 'graph' : 'caller' }
        : null,
    },
    output: {
      name: outputName,
      classNames: classes ? (o.classNames ?? Array.from({ length: classes }, (_, i) => String(i))) : null,
    },
    noise: noiseRow && {
      name: 'noise',
      meaning:
        `z_0 of the denoising chain, [N, ${noiseRow.length}]. layerhive's predict feeds noise_z0 on every row ` +
        "(so an image's scores do not depend on its batch); fresh N(0, I) rows give other samples of the prediction",
      z0: noiseRow,
    },
  };
  inputs[0].docString =
    kind === 'pixels'
      ? `float pixels v / 255 in [0, 1], [N, ${inShape.join(', ')}]; the graph normalises them`
      : norm
        ? `normalised pixels (v / 255 - ${norm.mean}) / ${norm.std}, [N, ${inShape.join(', ')}]`
        : `the network's input, [N, ${inShape.join(', ')}]`;
  const m = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'layerhive',
    producerVersion: LAYERHIVE_VERSION,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
    metadataProps: contractProps(contract).map((p) => onnx.StringStringEntryProto.create(p)),
  });
  return onnx.ModelProto.encode(m).finish();
}
