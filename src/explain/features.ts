import { fail } from '../core/errors.js';

/** [C, H, W] of an input shape (a flat input is one row). */
export function chw(shape: readonly number[]): [number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2]];
  if (shape.length === 2) return [1, shape[0], shape[1]];
  return [1, 1, shape.reduce((p, d) => p * d, 1)];
}

/**
 * A group id per element: the given mask (per element, or per pixel of [H, W] repeated over channels), or
 * superpixels of `cell`×`cell` pixels (a ⌈H/cell⌉×⌈W/cell⌉ grid: 49 superpixels of 4×4 on 28×28), or one group per
 * element when `cell` is null.
 */
export function featureGroups(
  shape: readonly number[],
  mask: Int32Array | undefined,
  cell: number | null,
): { groupOf: Int32Array; groups: number[] } {
  const [C, H, W] = chw(shape),
    per = C * H * W;
  let groupOf: Int32Array;
  if (mask) {
    if (mask.length === per) groupOf = mask;
    else if (mask.length === H * W) groupOf = Int32Array.from({ length: per }, (_, i) => mask[i % (H * W)]);
    else
      fail(
        'INVALID_ARGUMENT',
        `a feature mask of ${mask.length} entries fits neither the input (${per}) nor its pixels (${H * W})`,
        'pass one group id per element or per pixel',
      );
  } else if (cell === null) groupOf = Int32Array.from({ length: per }, (_, i) => i);
  else {
    const gw = Math.ceil(W / cell);
    groupOf = Int32Array.from({ length: per }, (_, i) => {
      const p = i % (H * W);
      return Math.floor(Math.floor(p / W) / cell) * gw + Math.floor((p % W) / cell);
    });
  }
  return { groupOf, groups: [...new Set(groupOf)].sort((a, b) => a - b) };
}

/** The feature number (0 … M − 1) of each element. */
export const featureOf = (groupOf: Int32Array, index: Map<number, number>): Int32Array =>
  Int32Array.from(groupOf, (g) => index.get(g)!);

/** The input with the features of `present` from x and the others from the reference. */
export function compose(x: Float32Array, ref: Float32Array, feature: Int32Array, present: Uint8Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = present[feature[i]] ? x[i] : ref[i];
  return out;
}
