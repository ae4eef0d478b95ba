import { fail } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { Sequential } from '../nn/sequential.js';
import type { LayerSpec } from '../nn/layer.js';
import type { onnx as OnnxNamespace } from 'onnx-proto';

type Onnx = typeof OnnxNamespace;
const pair = (v: number | [number, number] | undefined, d: [number, number]): [number, number] => (v === undefined ? d : typeof v === 'number' ? [v, v] : v);

export interface ExportOptions {
  /** Graph name (default 'layerhive'). */
  name?: string;
  /** Names of the graph's input and output (default 'input', 'logits'). */
  inputName?: string;
  outputName?: string;
}

/**
 * A Sequential network as an ONNX model (opset 17, IR 8): the batch dimension is symbolic ('N'), weights are
 * initializers. Dense → Gemm, conv2d → Conv, pooling → MaxPool/AveragePool (padding not counted), flatten →
 * Flatten, activations → Relu/Sigmoid/Tanh and GELU as x·½(1 + erf(x/√2)), batch norm → BatchNormalization
 * (running statistics), dropout → Identity. Embedding and branch layers are a typed error naming the layer.
 */
export async function exportOnnx(model: Sequential, o: ExportOptions = {}): Promise<Uint8Array> {
  // the schema (~0.7 MB of generated code) loads only when a model is exported
  const { onnx }: { onnx: Onnx } = await import('./proto.js');
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const inputName = o.inputName ?? 'input', outputName = o.outputName ?? 'logits';
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const inits: InstanceType<typeof onnx.TensorProto>[] = [];
  const init = async (name: string, t: Tensor | Float32Array, dims?: number[]) => {
    const data = t instanceof Float32Array ? t : Float32Array.from(await t.data() as Float32Array);
    inits.push(onnx.TensorProto.create({ name, dataType: FLOAT, dims: dims ?? [...(t as Tensor).shape], floatData: Array.from(data) }));
    return name;
  };
  const attr = {
    ints: (name: string, ints: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }),
    int: (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
    float: (name: string, f: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  };
  const node = (opType: string, input: string[], output: string, name: string, attribute: InstanceType<typeof onnx.AttributeProto>[] = []) =>
    nodes.push(onnx.NodeProto.create({ opType, input, output: [output], name, attribute }));

  let h = inputName;
  for (const [i, layer] of model.layers.entries()) {
    const spec: LayerSpec = layer.spec, out = i === model.layers.length - 1 ? outputName : `h${i}`, p = (k: string) => layer.params.get(k);
    switch (spec.type) {
      case 'flatten': node('Flatten', [h], out, `flatten${i}`, [attr.int('axis', 1)]); break;
      case 'dense': {
        if (layer.inputShape.length !== 1) fail('INVALID_ARGUMENT', `layer ${i} (dense) takes a ${layer.inputShape.length + 1}-D input; ONNX Gemm takes 2-D`, 'put a flatten layer before it');
        const inputs = [h, await init(`w${i}`, p('weight')!)];
        if (p('bias')) inputs.push(await init(`b${i}`, p('bias')!));
        node('Gemm', inputs, out, `dense${i}`);
        break;
      }
      case 'conv2d': {
        const w = p('weight')!, stride = pair(spec.stride, [1, 1]), pad = pair(spec.pad, [0, 0]);
        const inputs = [h, await init(`w${i}`, w)];
        if (p('bias')) inputs.push(await init(`b${i}`, p('bias')!));
        node('Conv', inputs, out, `conv${i}`, [attr.ints('kernel_shape', [w.shape[2], w.shape[3]]), attr.ints('strides', stride), attr.ints('pads', [pad[0], pad[1], pad[0], pad[1]])]);
        break;
      }
      case 'maxpool2d': case 'avgpool2d': {
        const kernel = pair(spec.kernel, [1, 1]), stride = pair(spec.stride, kernel), pad = pair(spec.pad, [0, 0]);
        const a = [attr.ints('kernel_shape', kernel), attr.ints('strides', stride), attr.ints('pads', [pad[0], pad[1], pad[0], pad[1]])];
        node(spec.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool', [h], out, `pool${i}`, spec.type === 'avgpool2d' ? [...a, attr.int('count_include_pad', 0)] : a);
        break;
      }
      case 'relu': node('Relu', [h], out, `relu${i}`); break;
      case 'sigmoid': node('Sigmoid', [h], out, `sigmoid${i}`); break;
      case 'tanh': node('Tanh', [h], out, `tanh${i}`); break;
      case 'gelu': {
        const c = (n: string, v: number) => init(`${n}${i}`, Float32Array.of(v), []);
        const [sqrt2, one, half] = [await c('sqrt2_', Math.SQRT2), await c('one_', 1), await c('half_', 0.5)];
        node('Div', [h, sqrt2], `gelu_div${i}`, `gelu_div${i}`);
        node('Erf', [`gelu_div${i}`], `gelu_erf${i}`, `gelu_erf${i}`);
        node('Add', [`gelu_erf${i}`, one], `gelu_add${i}`, `gelu_add${i}`);
        node('Mul', [h, `gelu_add${i}`], `gelu_mul${i}`, `gelu_mul${i}`);
        node('Mul', [`gelu_mul${i}`, half], out, `gelu${i}`);
        break;
      }
      case 'batchnorm': {
        const b = (k: string) => layer.buffers.get(k)!;
        node('BatchNormalization', [h, await init(`gamma${i}`, p('gamma')!), await init(`beta${i}`, p('beta')!), await init(`mean${i}`, b('runningMean')), await init(`var${i}`, b('runningVar'))],
          out, `batchnorm${i}`, [attr.float('epsilon', spec.epsilon ?? 1e-5)]);
        break;
      }
      case 'dropout': node('Identity', [h], out, `dropout${i}`); break;
      default:
        fail('INVALID_ARGUMENT', `layer ${i} (${spec.type}) has no ONNX export`, 'export networks of dense, conv2d, pooling, flatten, activation, batchnorm and dropout layers');
    }
    h = out;
  }
  if (model.layers.length === 0) node('Identity', [inputName], outputName, 'identity');
  const info = (name: string, dims: (number | string)[]) => onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: FLOAT, shape: onnx.TensorShapeProto.create({
      dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
    }) }) }),
  });
  const graph = onnx.GraphProto.create({
    name: o.name ?? 'layerhive', node: nodes, initializer: inits,
    input: [info(inputName, ['N', ...model.spec.input])], output: [info(outputName, ['N', ...model.outputShape])],
  });
  const m = onnx.ModelProto.create({ irVersion: 8, producerName: 'layerhive', opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })], graph });
  return onnx.ModelProto.encode(m).finish();
}
