import { fail } from '../../core/errors.js';
import type { Optimizer, OptimizerSpec } from './optimizer.js';
import { Sgd } from './sgd.js';
import { Adam } from './adam.js';
import type { EightBit } from './eight-bit.js';
import { BLOCK } from './blockwise.js';

export type { Optimizer, OptimizerSpec, SavedSlots } from './optimizer.js';
export { Sgd } from './sgd.js';
export { Adam } from './adam.js';
export { lrAt, type Schedule } from './schedule.js';
export { dynamicMap, codeTable } from './dynamic-map.js';
export { quantizeBlockwise, dequantizeBlockwise } from './blockwise.js';

/** The names `type` takes, for option lists and messages. */
export const optimizerTypes = ['sgd', 'adam', 'adamw', 'sgd8bit', 'adam8bit', 'adamw8bit'] as const;

/** bitsandbytes keeps tensors under 4 096 values in 32 bits (`min_8bit_size`): we follow it. */
const MIN_8BIT = 4096;

function eightBit(spec: OptimizerSpec): EightBit {
  const blockSize = spec.blockSize ?? BLOCK;
  if (!(Number.isInteger(blockSize) && blockSize > 0 && blockSize % 4 === 0))
    fail('INVALID_ARGUMENT', `8-bit block size ${blockSize} is not a positive multiple of 4`, 'use 2048 (the default)');
  return { blockSize, minSize: spec.minSize8bit ?? MIN_8BIT };
}

export function createOptimizer(spec: OptimizerSpec): Optimizer {
  if (!(spec.lr > 0))
    fail('INVALID_ARGUMENT', `learning rate ${spec.lr} is not positive`, 'use a learning rate such as 1e-3');
  switch (spec.type) {
    case 'sgd':
      return new Sgd(spec.lr, spec.momentum ?? 0, spec.weightDecay ?? 0);
    case 'adam':
      return new Adam(spec.lr, { ...spec, decoupled: false });
    case 'adamw':
      return new Adam(spec.lr, { ...spec, weightDecay: spec.weightDecay ?? 1e-2, decoupled: true });
    case 'sgd8bit':
      if (!spec.momentum)
        fail('INVALID_ARGUMENT', 'sgd8bit quantises the momentum, and this one has none', 'set momentum, or use sgd');
      return new Sgd(spec.lr, spec.momentum, spec.weightDecay ?? 0, eightBit(spec));
    case 'adam8bit':
      return new Adam(spec.lr, { ...spec, decoupled: false, eightBit: eightBit(spec) });
    case 'adamw8bit':
      return new Adam(spec.lr, {
        ...spec,
        weightDecay: spec.weightDecay ?? 1e-2,
        decoupled: true,
        eightBit: eightBit(spec),
      });
    default:
      return fail(
        'INVALID_ARGUMENT',
        `unknown optimizer ${JSON.stringify((spec as { type: unknown }).type)}`,
        `use one of ${optimizerTypes.join(', ')}`,
      );
  }
}
