import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt } from '../core/shape.js';
import { checkDType, checkRank } from './check.js';

/** Embedding lookup: rows of table [V, D] at int32 indices [N] → [N, D]. */
export function gather(table: Tensor, indices: Tensor): Tensor {
  checkRank('gather', 'table', table, 2);
  checkDType('gather', 'indices', indices, 'int32');
  return runKernel('Gather', [table, indices.reshape([indices.size])])[0];
}

/** The adjoint of gather: rows of updates [N, D] added into a zero [rows, D] table. */
export function scatterAdd(updates: Tensor, indices: Tensor, rows: number): Tensor {
  checkRank('scatterAdd', 'updates', updates, 2);
  checkDType('scatterAdd', 'indices', indices, 'int32');
  if (indices.size !== updates.shape[0]) {
    fail(
      'SHAPE_MISMATCH',
      `scatterAdd: ${indices.size} indices for updates ${fmt(updates.shape)}`,
      'pass one index per update row',
    );
  }
  return runKernel('ScatterAdd', [updates, indices.reshape([indices.size])], { rows })[0];
}
