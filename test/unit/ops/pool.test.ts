// @module-tag hand-computed
import { describe, expect, it } from 'vitest';
import * as lh from '../../../src/index.js';
import { tensor } from '../../../src/index.js';
import { js } from '../helpers.js';

// x = 1 … 16 as one 4×4 image
const x = () =>
  tensor(
    Float32Array.from({ length: 16 }, (_, i) => i + 1),
    [1, 1, 4, 4],
    'float32',
    js,
  );

describe('pooling on known values', () => {
  it('max and average 2×2', () => {
    expect(lh.maxPool2d(x(), { kernel: 2 }).toArray()).toEqual([6, 8, 14, 16]);
    expect(lh.avgPool2d(x(), { kernel: 2 }).toArray()).toEqual([3.5, 5.5, 11.5, 13.5]);
  });

  it('3×3, stride 2, padding 1: windows clip at the border and average over real pixels only', () => {
    expect(lh.maxPool2d(x(), { kernel: 3, stride: 2, pad: 1 }).toArray()).toEqual([6, 8, 14, 16]);
    // top-left window holds rows 0–1, cols 0–1: (1 + 2 + 5 + 6) / 4; top-right rows 0–1, cols 1–3: (2+3+4+6+7+8)/6
    expect(lh.avgPool2d(x(), { kernel: 3, stride: 2, pad: 1 }).toArray()).toEqual([3.5, 5, 9.5, 11]);
  });

  it('the max-pool gradient goes to the winners; the average-pool gradient is shared', () => {
    const dy = tensor([1, 2, 3, 4], [1, 1, 2, 2], 'float32', js);
    const g = lh.maxPool2dGrad(dy, x(), { kernel: 2 }).toArray();
    expect(g).toEqual([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4]);
    const a = lh.avgPool2dGrad(dy, x(), { kernel: 2 }).toArray();
    expect(a).toEqual([0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 0.75, 0.75, 1, 1]);
  });
});
