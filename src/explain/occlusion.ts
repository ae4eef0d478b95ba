import { fail } from '../core/errors.js';
import type { Evaluator } from './batch.js';
import type { ExplainOptions } from './types.js';
import type { Raw } from './gradient-methods.js';
import { chw } from './features.js';

/** An option given as one number for both axes or as [h, w], checked to be whole numbers ≥ 1. */
function axes(name: string, v: number | readonly number[] | undefined, fallback: [number, number]): [number, number] {
  if (v === undefined) return fallback;
  const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : [];
  if (pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d >= 1))
    fail(
      'INVALID_ARGUMENT',
      `occlusion ${name} ${JSON.stringify(v)} is not one whole number ≥ 1 or a pair [h, w] of them`,
      `pass e.g. ${name}: 3 or ${name}: [3, 3]`,
    );
  return [pair[0], pair[1]];
}

/**
 * Window origins along one axis, as Captum's Occlusion places them: 0, s, 2s, … up to the first at or past n − w,
 * ⌈(n − w)/s⌉ + 1 in all, the last one cut off by the edge where it would stick out.
 */
export function windowStarts(n: number, w: number, s: number): number[] {
  const count = Math.ceil((n - w) / s) + 1;
  return Array.from({ length: count }, (_, k) => k * s);
}

/**
 * Occlusion: a window slides over the image (all channels at once) and is replaced by the baseline; each
 * element's attribution is the mean score drop over the windows covering it. Windows are placed as in Captum:
 * every stride step from the top-left corner until one reaches the far edge, cut off there, so every element is
 * covered; `coverage` counts the windows over each element.
 */
export async function occlusion(
  ev: Evaluator,
  x: Float32Array,
  base: Float32Array,
  t: number,
  o: ExplainOptions,
): Promise<Raw> {
  const [C, H, W] = chw(ev.model.inputShape);
  const [wh, ww] = axes('window', o.window, [4, 4]),
    [sh, sw] = axes('stride', o.stride, [wh, ww]);
  if (wh > H || ww > W)
    fail(
      'INVALID_ARGUMENT',
      `occlusion window ${wh}×${ww} does not fit a ${H}×${W} image`,
      `use a window no larger than ${H}×${W}`,
    );
  // a stride past the window would skip elements (Captum refuses it too, unless the window spans the axis)
  if ((sh > wh && wh < H) || (sw > ww && ww < W))
    fail(
      'INVALID_ARGUMENT',
      `occlusion stride ${sh}×${sw} is longer than the window ${wh}×${ww}: elements between windows would be skipped`,
      `use a stride no longer than the window, e.g. stride: [${Math.min(sh, wh)}, ${Math.min(sw, ww)}]`,
    );
  const spots: [number, number, number, number][] = [];
  for (const y of windowStarts(H, wh, sh))
    for (const xx of windowStarts(W, ww, sw)) spots.push([y, Math.min(y + wh, H), xx, Math.min(xx + ww, W)]);
  const inputs = spots.map(([y0, y1, x0, x1]) => {
    const v = Float32Array.from(x);
    for (let c = 0; c < C; c++)
      for (let y = y0; y < y1; y++)
        for (let xx = x0; xx < x1; xx++) {
          const i = (c * H + y) * W + xx;
          v[i] = base[i];
        }
    return v;
  });
  const [fx, ...scores] = await ev.scores([x, ...inputs], t);
  const sum = new Float64Array(x.length),
    coverage = new Int32Array(x.length);
  spots.forEach(([y0, y1, x0, x1], k) => {
    for (let c = 0; c < C; c++)
      for (let y = y0; y < y1; y++)
        for (let xx = x0; xx < x1; xx++) {
          const i = (c * H + y) * W + xx;
          sum[i] += fx - scores[k];
          coverage[i]++;
        }
  });
  return { values: Float32Array.from(sum, (s, i) => s / coverage[i]), score: fx, coverage };
}
