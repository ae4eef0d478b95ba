// Entry point of the kernels module: re-exports every kernel.
// ABI: f32 row-major data; pointers are byte offsets into the imported
// env.memory; sizes are i32. The module never allocates: the JS side owns all
// memory above heapBase().
export { gemm, gemmWorkBytes } from "./gemm";
export { im2col, col2im } from "./im2col";
export { dwConv, dwConvGradInput, dwConvGradFilter } from "./depthwise";
export { winoFilter, winoInput, winoOutput } from "./winograd";
export {
  relu, sigmoid, tanh, gelu, exp, log, sqrt, neg,
  reluGrad, sigmoidGrad, tanhGrad, geluGrad,
  binary, binaryScalar, scalarBinary, binaryRow, binaryMid,
} from "./elementwise";
export { sumRows, maxRows, sumCols } from "./reduce";
export { softmaxRows, logSoftmaxRows } from "./softmax";
export { maxPool, maxPoolGrad, avgPool, avgPoolGrad } from "./pool";
export { adamStep, sgdStep } from "./optim";
export { adam8bitStep, sgd8bitStep } from "./optim8";

/** End of this module's static data; the JS allocator must start above it. */
export function heapBase(): usize {
  return __heap_base;
}
