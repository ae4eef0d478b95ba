import { fail } from '../core/errors.js';
import { checkPair } from './check.js';

/** Pads before (top, left) and after (bottom, right) from one number, a pair for both sides, or all four. */
export function convPads(op: string, v: number | readonly number[] | undefined): [[number, number], [number, number]] {
  if (Array.isArray(v) && v.length !== 2 && v.length !== 4)
    fail('INVALID_ARGUMENT', `${op}: pad ${JSON.stringify(v)} is invalid`, 'use one, two or four integers ≥ 0');
  if (Array.isArray(v) && v.length === 4) {
    const [t, l, b, r] = v;
    return [checkPair([t, l], 0, op, 'pad', 0), checkPair([b, r], 0, op, 'pad', 0)];
  }
  const p = checkPair(v as number | [number, number] | undefined, 0, op, 'pad', 0);
  return [p, [p[0], p[1]]];
}
