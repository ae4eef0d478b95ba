import { registerKernels, type KernelTable } from '../../registry.js';
import type { CpuBackend } from '../../backend.js';
import { matMulRef } from './matmul.js';
import { conv2dRef, conv2dBackpropInputRef, conv2dBackpropFilterRef } from './conv2d.js';
import { maxPoolRef, maxPoolGradRef, avgPoolRef, avgPoolGradRef } from './pool.js';
import { unaryRef, unaryGradRef } from './unary.js';
import { binaryRef } from './binary.js';
import { sumRef, maxRef, argmaxRef, momentsRef } from './reduce.js';
import { softmaxRef, logSoftmaxRef, crossEntropyRef, crossEntropyGradRef } from './softmax.js';
import { gatherRef, scatterAddRef } from './gather.js';
import { transposeRef, concatRef, sliceRef, copyRef, assignRef, castRef, fillRef } from './layout.js';
import { randomUniformRef, randomNormalRef, dropoutMaskRef } from './random.js';
import { optimizerStepRef } from './optimizer.js';
import { optimizerStep8bitRef } from './optimizer8bit.js';

/** The reference kernels; they run on any backend whose memory the CPU can view. */
export const referenceKernels: KernelTable<CpuBackend> = {
  MatMul: matMulRef,
  Conv2D: conv2dRef,
  Conv2DBackpropInput: conv2dBackpropInputRef,
  Conv2DBackpropFilter: conv2dBackpropFilterRef,
  MaxPool: maxPoolRef,
  MaxPoolGrad: maxPoolGradRef,
  AvgPool: avgPoolRef,
  AvgPoolGrad: avgPoolGradRef,
  Unary: unaryRef,
  UnaryGrad: unaryGradRef,
  Binary: binaryRef,
  Sum: sumRef,
  Max: maxRef,
  Argmax: argmaxRef,
  Softmax: softmaxRef,
  LogSoftmax: logSoftmaxRef,
  CrossEntropy: crossEntropyRef,
  CrossEntropyGrad: crossEntropyGradRef,
  Moments: momentsRef,
  DropoutMask: dropoutMaskRef,
  Gather: gatherRef,
  ScatterAdd: scatterAddRef,
  Transpose: transposeRef,
  Concat: concatRef,
  Slice: sliceRef,
  Copy: copyRef,
  Assign: assignRef,
  Cast: castRef,
  RandomUniform: randomUniformRef,
  RandomNormal: randomNormalRef,
  Fill: fillRef,
  OptimizerStep: optimizerStepRef,
  OptimizerStep8bit: optimizerStep8bitRef,
};

export function registerReferenceKernels(backendName: string, note: string): void {
  registerKernels(backendName, referenceKernels, () => note);
}
