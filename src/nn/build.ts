import type { BuildContext, Layer, LayerSpec } from './layer.js';
import { fail } from '../core/errors.js';
import { Dense } from './layers/dense.js';
import { Conv2d } from './layers/conv2d.js';
import { GlobalAvgPool, Pool2d } from './layers/pool.js';
import { Flatten } from './layers/flatten.js';
import { Activation } from './layers/activation.js';
import { BatchNorm } from './layers/batchnorm.js';
import { Dropout } from './layers/dropout.js';
import { Embedding } from './layers/embedding.js';
import { Branches } from './layers/branches.js';
import { Clip, HardSigmoid, HardSwish, LeakyRelu } from './layers/pointwise.js';
import { Pad } from './layers/pad.js';
import { LayerNorm } from './layers/layernorm.js';
import { Reshape, Transpose } from './layers/layout.js';
import { Rnn } from './layers/rnn.js';
import { Gru } from './layers/gru.js';

type Builder<S extends LayerSpec = LayerSpec> = (spec: S, inputShape: readonly number[], ctx: BuildContext) => Layer;
type Builders = { [T in LayerSpec['type']]: Builder<LayerSpec & { type: T }> };

/** One line per layer type: adding a layer is a file and a line here. */
const builders: Builders = {
  dense: (s, i, c) => new Dense(s, i, c),
  conv2d: (s, i, c) => new Conv2d(s, i, c),
  maxpool2d: (s, i) => new Pool2d(s, i),
  avgpool2d: (s, i) => new Pool2d(s, i),
  flatten: (s, i) => new Flatten(s, i),
  relu: (s, i) => new Activation(s, i),
  sigmoid: (s, i) => new Activation(s, i),
  tanh: (s, i) => new Activation(s, i),
  gelu: (s, i) => new Activation(s, i),
  hardswish: (s, i) => new HardSwish(s, i),
  clip: (s, i) => new Clip(s, i),
  leakyrelu: (s, i) => new LeakyRelu(s, i),
  hardsigmoid: (s, i) => new HardSigmoid(s, i),
  pad: (s, i) => new Pad(s, i),
  layernorm: (s, i, c) => new LayerNorm(s, i, c),
  globalavgpool: (s, i) => new GlobalAvgPool(s, i),
  reshape: (s, i) => new Reshape(s, i),
  transpose: (s, i) => new Transpose(s, i),
  batchnorm: (s, i, c) => new BatchNorm(s, i, c),
  dropout: (s, i) => new Dropout(s, i),
  embedding: (s, i, c) => new Embedding(s, i, c),
  rnn: (s, i, c) => new Rnn(s, i, c),
  gru: (s, i, c) => new Gru(s, i, c),
  branches: (s, i, c) => new Branches(s, i, c, buildLayer),
};

export function buildLayer(spec: LayerSpec, inputShape: readonly number[], ctx: BuildContext): Layer {
  const b = builders[spec?.type as LayerSpec['type']] as Builder | undefined;
  if (!b)
    fail(
      'SPEC_INVALID',
      `unknown layer type ${JSON.stringify(spec?.type)}`,
      `use one of: ${Object.keys(builders).join(', ')}`,
    );
  return b(spec, inputShape, ctx);
}
