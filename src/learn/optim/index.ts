import { fail } from '../../core/errors.js';
import type { Optimizer, OptimizerSpec } from './optimizer.js';
import { Sgd } from './sgd.js';
import { Adam } from './adam.js';

export type { Optimizer, OptimizerSpec } from './optimizer.js';
export { Sgd } from './sgd.js';
export { Adam } from './adam.js';
export { lrAt, type Schedule } from './schedule.js';

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
    default:
      return fail(
        'INVALID_ARGUMENT',
        `unknown optimizer ${JSON.stringify((spec as { type: unknown }).type)}`,
        'use sgd, adam or adamw',
      );
  }
}
