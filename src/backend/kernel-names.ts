/** Every kernel a backend may implement, named once. */
export const kernelNames = [
  'MatMul',
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'Unary',
  'UnaryGrad',
  'Binary',
  'Sum',
  'Max',
  'Argmax',
  'Softmax',
  'LogSoftmax',
  'CrossEntropy',
  'CrossEntropyGrad',
  'Moments',
  'DropoutMask',
  'Gather',
  'ScatterAdd',
  'Transpose',
  'Concat',
  'Slice',
  'Copy',
  'Assign',
  'Cast',
  'RandomUniform',
  'RandomNormal',
  'Fill',
  'OptimizerStep',
  'OptimizerStep8bit',
] as const;
export type KernelName = (typeof kernelNames)[number];

export const unaryOps = [
  'relu',
  'sigmoid',
  'tanh',
  'gelu',
  'exp',
  'log',
  'sqrt',
  'neg',
  'abs',
  'square',
  'sign',
] as const;
export type UnaryOp = (typeof unaryOps)[number];
/** Derivatives take dy and either the forward input x or the forward output y, as noted. */
export const unaryGradUses: Record<UnaryOp, 'x' | 'y'> = {
  relu: 'x',
  sigmoid: 'y',
  tanh: 'y',
  gelu: 'x',
  exp: 'y',
  log: 'x',
  sqrt: 'y',
  neg: 'x',
  abs: 'x',
  square: 'x',
  sign: 'x',
};
export const binaryOps = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const;
export type BinaryOp = (typeof binaryOps)[number];
