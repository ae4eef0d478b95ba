import { fail } from '../core/errors.js';
import { repeatEach, type Evaluator } from './batch.js';
import { axes } from './options.js';
import type { Job, Raw } from './job.js';
import { chw } from './features.js';

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
export async function occlusion(ev: Evaluator, j: Job): Promise<Raw[]> {
  const [C, H, W] = chw(ev.model.inputShape);
  const base = j.base;
  const [wh, ww] = axes(j.o.window, [4, 4]),
    [sh, sw] = axes(j.o.stride, [wh, ww]);
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
  const occluded = (x: Float32Array) =>
    spots.map(([y0, y1, x0, x1]) => {
      const v = Float32Array.from(x);
      for (let c = 0; c < C; c++)
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++) {
            const i = (c * H + y) * W + xx;
            v[i] = base[i];
          }
      return v;
    });
  const rows = 1 + spots.length;
  const all = await ev.scores(
    j.xs.flatMap((x) => [x, ...occluded(x)]),
    repeatEach(j.ts, rows),
  );
  const coverage = new Int32Array(C * H * W);
  for (const [y0, y1, x0, x1] of spots)
    for (let c = 0; c < C; c++)
      for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) coverage[(c * H + y) * W + xx]++;
  return j.xs.map((_, k) => {
    const fx = all[k * rows],
      sum = new Float64Array(C * H * W);
    spots.forEach(([y0, y1, x0, x1], r) => {
      const drop = fx - all[k * rows + 1 + r];
      for (let c = 0; c < C; c++)
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) sum[(c * H + y) * W + xx] += drop;
    });
    return { values: Float32Array.from(sum, (s, i) => s / coverage[i]), score: fx, coverage: coverage.slice() };
  });
}
