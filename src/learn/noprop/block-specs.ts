import { fail } from '../../core/errors.js';
import type { LayerSpec } from '../../nn/layer.js';

/**
 * A NoProp block sees the image x and a noisy label embedding z and outputs class logits; the denoised
 * embedding is softmax(logits)·W_embed. Three parts, each a Sequential: an image path, a label path and a
 * fused head over their concatenation.
 */
export interface BlockSpec {
  image: LayerSpec[];
  label: LayerSpec[];
  fused: LayerSpec[];
}

export const blockKinds = ['mlp', 'cnn'] as const;
export type BlockKind = (typeof blockKinds)[number];

/**
 * The paper's block (as restated): conv 32/64/128 image path, label path FC+BN+ReLU twice with a skip, fused FC+BN+ReLU
 * twice.
 */
function cnnBlock(outputs: number, width = 256): BlockSpec {
  const conv = (filters: number): LayerSpec[] => [
    { type: 'conv2d', filters, kernel: 3, pad: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'dropout', rate: 0.2 },
  ];
  const fcBnRelu = (units: number): LayerSpec[] => [{ type: 'dense', units }, { type: 'batchnorm' }, { type: 'relu' }];
  return {
    image: [
      ...conv(32),
      ...conv(64),
      ...conv(128),
      { type: 'flatten' },
      { type: 'dense', units: width },
      { type: 'batchnorm' },
    ],
    label: [
      { type: 'dense', units: width },
      { type: 'batchnorm' },
      { type: 'relu' },
      { type: 'branches', merge: 'add', branches: [[], fcBnRelu(width)] },
    ],
    fused: [...fcBnRelu(width), ...fcBnRelu(width / 2), { type: 'dense', units: outputs }],
  };
}

/** The same shape with a dense image path, for fast runs. */
function mlpBlock(outputs: number, width = 256): BlockSpec {
  return {
    image: [{ type: 'flatten' }, { type: 'dense', units: width }, { type: 'batchnorm' }, { type: 'relu' }],
    label: [{ type: 'dense', units: width }, { type: 'batchnorm' }, { type: 'relu' }],
    fused: [
      { type: 'dense', units: width },
      { type: 'batchnorm' },
      { type: 'relu' },
      { type: 'dense', units: outputs },
    ],
  };
}

/**
 * `outputs`: class logits (DT, CT) or the embedding dimension (FM, which predicts a velocity). `kind` is checked once,
 * by the rule's constructor (`checkBlockKind`), before anything is built.
 */
export function blockSpec(kind: BlockKind, outputs: number): BlockSpec {
  return kind === 'cnn' ? cnnBlock(outputs) : mlpBlock(outputs);
}

/** A typed error for a block name that is not one of `blockKinds` (a config read from JSON can hold anything). */
export function checkBlockKind(kind: BlockKind): void {
  if (!blockKinds.includes(kind))
    fail(
      'INVALID_ARGUMENT',
      `unknown NoProp block ${JSON.stringify(kind)}`,
      `use one of: ${blockKinds.join(', ')} (the rule config's model)`,
    );
}
