import { fail } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: Shape, what = 'shape'): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      fail(
        'INVALID_ARGUMENT',
        `${what} [${shape.join(',')}] has a bad dimension ${d}`,
        'every dimension must be a non-negative integer',
      );
    }
  }
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** NumPy broadcasting: align trailing dimensions; a dimension of 1 stretches. */
export function broadcastShapes(a: Shape, b: Shape, op = 'op'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(
        'SHAPE_MISMATCH',
        `${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`,
        'make the dimensions equal or 1, or reshape one operand',
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalise possibly-negative axes against a rank; undefined means every axis. */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op = 'op'): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) {
      fail(
        'INVALID_ARGUMENT',
        `${op}: axis ${a} is out of range for rank ${rank}`,
        `use an axis in [${-rank}, ${rank - 1}]`,
      );
    }
    return ax;
  });
  return [...new Set(out)].sort((x, y) => x - y);
}
