// Tiny ONNX models built in JS with onnx-proto (opset 17, IR version 8),
// for the ONNX Runtime peers (bench/peers/ort-web.mjs, bench/peers/ort-node.mjs).
// onnx-proto is CommonJS: its default export is the protobufjs root holding `onnx`.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function valueInfo(name, dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })),
        }),
      }),
    }),
  });
}

function modelBytes(graph) {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'layerhive-bench',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Y[M,N] = A[M,K] · B[K,N]; both A and B are graph inputs. Returns the model as Uint8Array. */
export function matmulModel(M, K, N) {
  const graph = onnx.GraphProto.create({
    name: `matmul_${M}x${K}x${N}`,
    node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['A', 'B'], output: ['Y'], name: 'mm' })],
    input: [valueInfo('A', [M, K]), valueInfo('B', [K, N])],
    output: [valueInfo('Y', [M, N])],
  });
  return modelBytes(graph);
}

/**
 * Y = Conv(X[N,Cin,H,W], W[Cout,Cin,k,k]), no bias, square stride/pad.
 * With `weight` (a Float32Array) W is an initializer baked into the model, so ORT can pre-pack it at
 * session creation like a real inference model; without it W is a second graph input.
 */
export function conv2dModel({ N, Cin, H, W, Cout, k, stride, pad }, weight = null) {
  const Hout = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wout = Math.floor((W + 2 * pad - k) / stride) + 1;
  const attr = (name, ints) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
  const graph = onnx.GraphProto.create({
    name: `conv_${H}x${W}x${Cin}_${Cout}`,
    node: [
      onnx.NodeProto.create({
        opType: 'Conv',
        input: ['X', 'W'],
        output: ['Y'],
        name: 'conv',
        attribute: [
          attr('kernel_shape', [k, k]),
          attr('strides', [stride, stride]),
          attr('pads', [pad, pad, pad, pad]),
          attr('dilations', [1, 1]),
        ],
      }),
    ],
    input: weight
      ? [valueInfo('X', [N, Cin, H, W])]
      : [valueInfo('X', [N, Cin, H, W]), valueInfo('W', [Cout, Cin, k, k])],
    initializer: weight
      ? [
          onnx.TensorProto.create({
            name: 'W',
            dataType: FLOAT,
            dims: [Cout, Cin, k, k],
            rawData: new Uint8Array(weight.buffer.slice(weight.byteOffset, weight.byteOffset + weight.byteLength)),
          }),
        ]
      : [],
    output: [valueInfo('Y', [N, Cout, Hout, Wout])],
  });
  return modelBytes(graph);
}
