/** Small ONNX graphs built with onnx-proto for the importer's tests. */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
const AT = onnx.AttributeProto.AttributeType;

export type Attr = number | number[] | string | { f: number };

/** A float32 tensor value: the batch may be symbolic ('N'). */
export const vi = (name: string, dims: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });

export const init = (name: string, dims: number[], values: ArrayLike<number>, dataType = FLOAT) =>
  dataType === FLOAT
    ? onnx.TensorProto.create({ name, dims, dataType, floatData: Array.from(values) })
    : onnx.TensorProto.create({ name, dims, dataType, int64Data: Array.from(values) });

/** Integers are INT, arrays INTS, strings STRING, { f } FLOAT. */
export const attrs = (a: Record<string, Attr>) =>
  Object.entries(a).map(([name, v]) =>
    typeof v === 'number'
      ? { name, type: AT.INT, i: v }
      : typeof v === 'string'
        ? { name, type: AT.STRING, s: new TextEncoder().encode(v) }
        : Array.isArray(v)
          ? { name, type: AT.INTS, ints: v }
          : { name, type: AT.FLOAT, f: v.f },
  );

export const node = (opType: string, input: string[], output: string[], a: Record<string, Attr> = {}, name = '') =>
  onnx.NodeProto.create({ opType, input, output, name: name || opType.toLowerCase(), attribute: attrs(a) });

export const bytesOf = (graph: object, opset = 13, irVersion = 7) =>
  onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion, opsetImport: [{ domain: '', version: opset }], graph }),
  ).finish();

/** One graph: `x` of `inputDims` through `nodes` to `y` (output dims left symbolic where unknown). */
export const graphOf = (
  nodes: ReturnType<typeof node>[],
  inputDims: (number | string)[],
  initializer: ReturnType<typeof init>[] = [],
  output = 'y',
) =>
  onnx.GraphProto.create({
    name: 'g',
    node: nodes,
    initializer,
    input: [vi('x', inputDims)],
    output: [onnx.ValueInfoProto.create({ name: output, type: { tensorType: { elemType: FLOAT } } })],
  });

/** The IR version onnxruntime expects for an opset (onnx's version table). */
export const irFor = (opset: number) =>
  opset <= 8
    ? 3
    : opset <= 9
      ? 4
      : opset <= 10
        ? 5
        : opset <= 11
          ? 6
          : opset <= 14
            ? 7
            : opset <= 18
              ? 8
              : opset <= 20
                ? 9
                : opset <= 22
                  ? 10
                  : 11;

/** Layer specs without the names the importer gives them from the nodes (to compare the structure alone). */
export const unnamed = <T>(layers: T): T =>
  JSON.parse(JSON.stringify(layers, (k, v) => (k === 'name' && typeof v === 'string' ? undefined : v)));
