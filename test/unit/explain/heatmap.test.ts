// @module-tag hand-computed
/**
 * The colours of attribution pictures, worked by hand: the scale's end is the 99th percentile of |value|; a map is
 * signed when any value is negative, or when asked; signed maps run blue → white → red, magnitudes black → red →
 * yellow; over the input, a pixel is as opaque as the map is strong (0.15 at least) on 0.8 of the input's grey.
 */
import { describe, expect, it } from 'vitest';
import { heatmapPicture, mapColour, mapScale, overlayPicture } from '../../../src/index.js';

describe('heatmap colours', () => {
  it('puts full colour at the 99th percentile of |value|, so one extreme value does not wash out the rest', () => {
    const v = Float32Array.from({ length: 200 }, (_, i) => (i < 199 ? (i % 10) / 10 : 1000));
    // sorted |v|: index floor(0.99·200) = 198 is 0.9 (the 1000 is at 199)
    expect(mapScale(v).peak).toBeCloseTo(0.9, 6);
    expect(mapScale(v).signed).toBe(false);
    expect(mapScale([1, -2, 3]).signed).toBe(true);
    expect(mapScale([1, 2, 3], true).signed).toBe(true);
    expect(mapScale([0, 0]).peak).toBe(1e-12);
  });

  it('colours signed maps blue → white → red and magnitudes black → red → yellow', () => {
    const signed = { signed: true, peak: 2 },
      magnitude = { signed: false, peak: 2 };
    expect(mapColour(2, signed)).toEqual([255, 0, 0]);
    expect(mapColour(-2, signed)).toEqual([0, 0, 255]);
    expect(mapColour(0, signed)).toEqual([255, 255, 255]);
    expect(mapColour(1, signed)).toEqual([255, 128, 128]); // 255·(1 − 0.5) = 127.5 → 128
    expect(mapColour(5, signed)).toEqual([255, 0, 0]); // beyond the peak: full colour
    expect(mapColour(0, magnitude)).toEqual([0, 0, 0]);
    expect(mapColour(1, magnitude)).toEqual([255, 0, 0]);
    expect(mapColour(2, magnitude)).toEqual([255, 255, 0]);
    expect(mapColour(1.5, magnitude)).toEqual([255, 128, 0]);
    expect(mapColour(-1, magnitude)).toEqual([0, 0, 0]); // a magnitude scale shows negatives as nothing
  });

  it('draws a map on the scale it is given: a positive-only map on a signed scale is red and white, never blue', () => {
    const values = [0, 1, 2, 0.5];
    const own = heatmapPicture(values, [1, 2, 2], 1),
      signed = heatmapPicture(values, [1, 2, 2], 1, { signed: true, peak: 2 });
    // its own scale: a magnitude (no negatives), peak 2
    expect([...own.rgba.subarray(4, 8)]).toEqual([255, 0, 0, 255]);
    expect([...signed.rgba.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
    expect([...signed.rgba.subarray(4, 8)]).toEqual([255, 128, 128, 255]);
    expect([...signed.rgba.subarray(8, 12)]).toEqual([255, 0, 0, 255]);
  });

  it('lays the map over the grey input, as opaque as the map is strong', () => {
    // input 0 and 10 → grey 0 and 255; map 0 and 2 on peak 2: opacity 0.15 and 1
    const pic = overlayPicture([0, 10], [0, 2], [1, 1, 2], 1, { signed: false, peak: 2 });
    expect([...pic.rgba.subarray(0, 4)]).toEqual([0, 0, 0, 255]);
    expect([...pic.rgba.subarray(4, 8)]).toEqual([255, 255, 0, 255]);
    const faint = overlayPicture([0, 10], [0, 0.2], [1, 1, 2], 1, { signed: false, peak: 2 });
    // t = 0.1: colour [51, 0, 0], opacity 0.15 + 0.85·0.1 = 0.235, under grey 255·0.8 = 204
    const a = 0.235;
    expect([...faint.rgba.subarray(4, 8)]).toEqual([
      Math.round(a * 51 + (1 - a) * 204),
      Math.round((1 - a) * 204),
      Math.round((1 - a) * 204),
      255,
    ]);
  });
});
