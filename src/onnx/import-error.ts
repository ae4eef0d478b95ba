import { LayerhiveError } from '../core/errors.js';

/** The ops the importer reads, for the hint of an error about an op or graph it cannot read. */
export const IMPORTED_OPS =
  'Gemm, MatMul, Add, Sub, Mul, Div, Concat, Conv, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Flatten, ' +
  'Reshape, Squeeze, Unsqueeze, Transpose, Pad, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu, ' +
  'Erf (in the GELU pattern), BatchNormalization, LayerNormalization, Softmax, LogSoftmax, Dropout, Identity, ' +
  'Constant, Shape, Gather, Cast';

/** A DATA_INVALID error about the file being imported. */
export const importError = (what: string, hint = `export the model with these ops: ${IMPORTED_OPS}`) =>
  new LayerhiveError('DATA_INVALID', what, hint);

export const num = (v: unknown): number => Number(v);
export const fmtDims = (d: readonly number[]) => `[${d.join(', ')}]`;
