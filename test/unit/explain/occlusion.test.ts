/**
 * Occlusion's windows as Captum places them: every stride step from the corner until one reaches the far edge, the
 * last one cut off there, so no pixel is left out; on a linear model each pixel's attribution is the mean over the
 * windows covering it of the window's Σ w·(x − x′), worked out here in float64.
 */
import { describe, expect, it } from 'vitest';
import { explain, fromScores, LayerhiveError, Rng } from '../../../src/index.js';
import { windowStarts } from '../../../src/explain/occlusion.js';
import { expectClose } from '../helpers.js';

const H = 28,
  W = 28;
const w = new Rng(11).fillUniform(new Float32Array(H * W), -1, 1);
const x = new Rng(12).fillUniform(new Float32Array(H * W), 0, 1);
const base = new Rng(13).fillUniform(new Float32Array(H * W), -0.2, 0.2);
/** Class 0 scores Σ w·x (float32 inputs, float64 sum), class 1 its negative. */
const linear = fromScores([1, H, W], 2, async (v, batch) => {
  const out = new Float32Array(batch * 2);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let i = 0; i < H * W; i++) s += w[i] * v[b * H * W + i];
    out[2 * b] = s;
    out[2 * b + 1] = -s;
  }
  return out;
});

describe('occlusion windows (Captum: ⌈(n − w)/s⌉ + 1 origins per axis, the last one cut off by the edge)', () => {
  it('5×5 windows at stride 3 on 28×28: origins 0, 3, …, 24, the last 4 wide; every pixel covered and ' +
    'each attributed the mean drop of its windows', { tags: ['hand-computed'] }, async () => {
    expect(windowStarts(28, 5, 3)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24]);
    expect(windowStarts(28, 4, 4)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(windowStarts(28, 28, 1)).toEqual([0]);
    const a = await explain(linear, x, { method: 'occlusion', target: 0, baseline: base, window: [5, 5], stride: 3 });
    // 9 × 9 windows and F(x)
    expect(a.modelCalls).toBe(82);
    // the windows by hand: [s, min(s + 5, 28)) on each axis
    const spans = [0, 3, 6, 9, 12, 15, 18, 21, 24].map((s) => [s, Math.min(s + 5, 28)]);
    const sum = new Float64Array(H * W),
      count = new Int32Array(H * W);
    for (const [y0, y1] of spans)
      for (const [x0, x1] of spans) {
        let drop = 0;
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++) drop += w[y * W + xx] * (x[y * W + xx] - base[y * W + xx]);
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++) {
            sum[y * W + xx] += drop;
            count[y * W + xx]++;
          }
      }
    expect(Math.min(...count)).toBeGreaterThanOrEqual(1);
    expect(Array.from(a.coverage!)).toEqual(Array.from(count));
    // the bottom-right pixel lies in one window only, the cut-off 4×4 one at (24, 24)
    expect(a.coverage![H * W - 1]).toBe(1);
    // the drops are float32 scores of sums of 784 terms (~1e-6 of |F|); F ~ 10 here
    expectClose(
      a.values,
      sum.map((s, i) => s / count[i]),
      0,
      2e-5,
      'occlusion vs the hand-placed windows',
    );
  });

  it('a window as wide as the image and stride = window leave nothing out either', {
    tags: ['invariant'],
  }, async () => {
    for (const [window, stride] of [
      [
        [28, 3],
        [1, 3],
      ],
      [
        [6, 6],
        [6, 6],
      ],
      [
        [7, 5],
        [2, 4],
      ],
    ] as [[number, number], [number, number]][]) {
      const a = await explain(linear, x, { method: 'occlusion', target: 1, baseline: base, window, stride });
      expect(Math.min(...a.coverage!), `window ${window} stride ${stride}`).toBeGreaterThanOrEqual(1);
      expect(a.values.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('occlusion options', () => {
  it('one number means both axes; a stride past the window or a bad value is a typed error naming the option', {
    tags: ['behaviour'],
  }, async () => {
    const pair = await explain(linear, x, { method: 'occlusion', target: 0, window: [3, 3], stride: [2, 2] });
    const one = await explain(linear, x, { method: 'occlusion', target: 0, window: 3, stride: 2 });
    expect(Array.from(one.values)).toEqual(Array.from(pair.values));
    const refused = async (o: object, words: RegExp) => {
      const e = await explain(linear, x, { method: 'occlusion', target: 0, ...o }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(LayerhiveError);
      expect((e as LayerhiveError).code).toBe('INVALID_ARGUMENT');
      expect((e as Error).message).toMatch(words);
    };
    await refused({ window: [4, 4], stride: [5, 5] }, /stride 5×5 is longer than the window 4×4/);
    await refused({ stride: 0 }, /stride 0 /);
    await refused({ window: [3, 3, 3] }, /window \[3,3,3\]/);
    await refused({ window: 1.5 }, /window 1\.5/);
    await refused({ window: [29, 4] }, /does not fit a 28×28 image/);
  });
});
