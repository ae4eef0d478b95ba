// The ONNX protobuf schema from the onnx-proto package (generated protobufjs code, CommonJS).
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
