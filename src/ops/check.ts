import type { Tensor } from '../core/tensor.js';
import type { DType } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import { fmt } from '../core/shape.js';

export function checkRank(op: string, name: string, t: Tensor, rank: number | readonly number[]): void {
  const ok = typeof rank === 'number' ? t.rank === rank : rank.includes(t.rank);
  if (!ok) {
    fail(
      'SHAPE_MISMATCH',
      `${op}: ${name} has shape ${fmt(t.shape)} (rank ${t.rank}) but rank ${rank} is needed`,
      `reshape ${name} to rank ${rank}`,
    );
  }
}

export function checkDType(op: string, name: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype) {
    fail('DTYPE_MISMATCH', `${op}: ${name} is ${t.dtype} but ${dtype} is needed`, `cast ${name} to ${dtype} first`);
  }
}

export function checkPair(
  v: number | readonly [number, number] | undefined,
  dflt: number,
  op: string,
  what: string,
  min: number,
): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.some((x) => !Number.isInteger(x) || x < min)) {
    fail(
      'INVALID_ARGUMENT',
      `${op}: ${what} ${JSON.stringify(v)} is invalid`,
      `use an integer ≥ ${min} or a pair of them`,
    );
  }
  return p;
}
