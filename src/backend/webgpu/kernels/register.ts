import { registerKernels, type KernelTable } from '../../registry.js';
import type { WebGpuBackend } from '../webgpu-backend.js';
import { binaryGpu, unaryGpu, unaryGradGpu } from './elementwise.js';
import { matMulGpu } from './matmul.js';
import { argmaxGpu, maxGpu, momentsGpu, sumGpu } from './reduce.js';
import { crossEntropyGpu, crossEntropyGradGpu, logSoftmaxGpu, softmaxGpu } from './softmax.js';
import { assignGpu, castGpu, concatGpu, copyGpu, fillGpu, sliceGpu, transposeGpu } from './layout.js';
import { gatherGpu, scatterAddGpu } from './gather.js';
import { optimizerStepGpu } from './optimizer.js';
import { optimizerStep8bitGpu } from './optimizer8bit.js';
import { dropoutMaskGpu, randomNormalGpu, randomUniformGpu } from './random.js';
import {
  avgPoolGpu,
  avgPoolGradGpu,
  conv2dBackpropFilterGpu,
  conv2dBackpropInputGpu,
  conv2dGpu,
  maxPoolGpu,
  maxPoolGradGpu,
} from './conv.js';

/** Every kernel in WGSL: a table over all kernel names, so a missing one (or wrong attrs) does not compile. */
export const webgpuKernels: KernelTable<WebGpuBackend> = {
  MatMul: matMulGpu,
  Conv2D: conv2dGpu,
  Conv2DBackpropInput: conv2dBackpropInputGpu,
  Conv2DBackpropFilter: conv2dBackpropFilterGpu,
  MaxPool: maxPoolGpu,
  MaxPoolGrad: maxPoolGradGpu,
  AvgPool: avgPoolGpu,
  AvgPoolGrad: avgPoolGradGpu,
  Unary: unaryGpu,
  UnaryGrad: unaryGradGpu,
  Binary: binaryGpu,
  Sum: sumGpu,
  Max: maxGpu,
  Argmax: argmaxGpu,
  Softmax: softmaxGpu,
  LogSoftmax: logSoftmaxGpu,
  CrossEntropy: crossEntropyGpu,
  CrossEntropyGrad: crossEntropyGradGpu,
  Moments: momentsGpu,
  DropoutMask: dropoutMaskGpu,
  Gather: gatherGpu,
  ScatterAdd: scatterAddGpu,
  Transpose: transposeGpu,
  Concat: concatGpu,
  Slice: sliceGpu,
  Copy: copyGpu,
  Assign: assignGpu,
  Cast: castGpu,
  RandomUniform: randomUniformGpu,
  RandomNormal: randomNormalGpu,
  Fill: fillGpu,
  OptimizerStep: optimizerStepGpu,
  OptimizerStep8bit: optimizerStep8bitGpu,
};

export function registerWebGpuKernels(): void {
  registerKernels('webgpu', webgpuKernels, () => 'wgsl');
}
