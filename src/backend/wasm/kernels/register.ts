import { registerKernels, type KernelTable } from '../../registry.js';
import type { WasmBackend } from '../wasm-backend.js';
import { referenceKernels } from '../../js/kernels/register.js';
import { matMulWasm } from './matmul.js';
import { conv2dWasm, conv2dBackpropInputWasm, conv2dBackpropFilterWasm } from './conv2d.js';
import { binaryWasm, unaryGradWasm, unaryWasm } from './elementwise.js';
import { logSoftmaxWasm, maxWasm, momentsWasm, softmaxWasm, sumWasm } from './reduce.js';
import { optimizerStepWasm } from './optimizer.js';
import { optimizerStep8bitWasm } from './optimizer8bit.js';
import { avgPoolGradWasm, avgPoolWasm, maxPoolGradWasm, maxPoolWasm } from './pool.js';

/** Kernels with SIMD code; every other kernel runs the reference implementation on the wasm heap. */
const simdKernels: Partial<KernelTable<WasmBackend>> = {
  MatMul: matMulWasm,
  Conv2D: conv2dWasm,
  Conv2DBackpropInput: conv2dBackpropInputWasm,
  Conv2DBackpropFilter: conv2dBackpropFilterWasm,
  MaxPool: maxPoolWasm,
  MaxPoolGrad: maxPoolGradWasm,
  AvgPool: avgPoolWasm,
  AvgPoolGrad: avgPoolGradWasm,
  Unary: unaryWasm,
  UnaryGrad: unaryGradWasm,
  Binary: binaryWasm,
  Sum: sumWasm,
  Moments: momentsWasm,
  Max: maxWasm,
  Softmax: softmaxWasm,
  LogSoftmax: logSoftmaxWasm,
  OptimizerStep: optimizerStepWasm,
  OptimizerStep8bit: optimizerStep8bitWasm,
};

export function registerWasmKernels(): void {
  const table: KernelTable<WasmBackend> = { ...referenceKernels, ...simdKernels };
  registerKernels('wasm', table, (name) => (simdKernels[name] ? 'simd' : 'reference on the wasm heap'));
}
