import { runKernel } from '../backend/engine.js';
import type { Tensor } from '../core/tensor.js';
import { fail } from '../core/errors.js';
import { fmt, sameShape } from '../core/shape.js';
import { checkDType } from './check.js';
import { tidy } from '../core/scope.js';

export interface MatMulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * op(a) · op(b) over the last two dimensions; leading dimensions are batch dimensions, equal on both
 * sides or absent (size 1) on one side.
 */
export function matmul(a: Tensor, b: Tensor, { transposeA = false, transposeB = false }: MatMulOptions = {}): Tensor {
  checkDType('matmul', 'a', a, 'float32');
  checkDType('matmul', 'b', b, 'float32');
  if (a.rank < 2 || b.rank < 2) {
    fail(
      'SHAPE_MISMATCH',
      `matmul needs rank ≥ 2 operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`,
      'reshape vectors to [1, n] or [n, 1]',
    );
  }
  const [ar, ac] = a.shape.slice(-2),
    [br, bc] = b.shape.slice(-2);
  const M = transposeA ? ac : ar,
    K = transposeA ? ar : ac,
    Kb = transposeB ? bc : br,
    N = transposeB ? br : bc;
  if (K !== Kb) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: inner dimensions differ: ${fmt(a.shape)}${transposeA ? 'ᵀ' : ''} · ` +
        `${fmt(b.shape)}${transposeB ? 'ᵀ' : ''} (${K} vs ${Kb})`,
      'the columns of op(a) must equal the rows of op(b); check the transpose flags',
    );
  }
  const batchA = a.shape.slice(0, -2),
    batchB = b.shape.slice(0, -2);
  const na = batchA.reduce((p, d) => p * d, 1),
    nb = batchB.reduce((p, d) => p * d, 1);
  if (na !== 1 && nb !== 1 && !sameShape(batchA, batchB)) {
    fail(
      'SHAPE_MISMATCH',
      `matmul: batch dimensions ${fmt(batchA)} and ${fmt(batchB)} differ`,
      'make them equal, or give one side no batch dimension',
    );
  }
  const batch = na >= nb ? batchA : batchB;
  return tidy(() => {
    const out = runKernel('MatMul', [a.reshape([na, ar, ac]), b.reshape([nb, br, bc])], { transposeA, transposeB })[0];
    return out.reshape([...batch, M, N]);
  });
}
