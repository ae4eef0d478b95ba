// @module-tag behaviour
import { describe, expect, it } from 'vitest';
import { datasetFromIdx, parseIdx, subset } from '../../../src/data/index.js';
import { idxBytes } from './idx-bytes.js';

const names = { images: 'imgs.idx', labels: 'labs.idx' };
const images = (n: number, r = 2, c = 3) =>
  parseIdx(
    idxBytes(
      [n, r, c],
      Array.from({ length: n * r * c }, (_, i) => i % 256),
    ),
    names.images,
  );
const labels = (values: number[]) => parseIdx(idxBytes([values.length], values), names.labels);
const invalid = (msg: RegExp) => expect.objectContaining({ code: 'DATA_INVALID', message: expect.stringMatching(msg) });

describe('datasetFromIdx', () => {
  it('builds a [1, rows, cols] dataset', () => {
    const ds = datasetFromIdx(images(4), labels([3, 1, 4, 1]), names);
    expect(ds.count).toBe(4);
    expect(ds.shape).toEqual([1, 2, 3]);
    expect(ds.classes).toBe(10);
    expect(Array.from(ds.labels)).toEqual([3, 1, 4, 1]);
    expect(ds.images.length).toBe(24);
  });

  it('rejects an image/label count mismatch, naming both counts and files', () => {
    expect(() => datasetFromIdx(images(4), labels([1, 2, 3]), names)).toThrow(
      invalid(/imgs\.idx holds 4 images but labs\.idx holds 3 labels/),
    );
  });

  it('rejects a label outside [0, classes), naming its index and value', () => {
    expect(() => datasetFromIdx(images(3), labels([0, 9, 10]), names)).toThrow(
      invalid(/labs\.idx: label 2 is 10.*\[0, 10\)/),
    );
    expect(() => datasetFromIdx(images(3), labels([0, 1, 2]), names, { classes: 2 })).toThrow(
      invalid(/label 2 is 2.*\[0, 2\)/),
    );
    expect(datasetFromIdx(images(3), labels([0, 9, 10]), names, { classes: 11 }).classes).toBe(11);
  });

  it('rejects images and labels swapped or of the wrong rank', () => {
    expect(() => datasetFromIdx(labels([1, 2]), images(2), names)).toThrow(
      invalid(/imgs\.idx: expected image dims \[N, rows, cols\], found \[2\]/),
    );
    expect(() => datasetFromIdx(images(2), images(2), names)).toThrow(invalid(/labs\.idx: expected label dims \[N\]/));
  });
});

describe('subset', () => {
  it('takes images and labels [start, start + count) as views', () => {
    const ds = datasetFromIdx(images(5), labels([0, 1, 2, 3, 4]), names);
    const s = subset(ds, 2, 2);
    expect(s.count).toBe(2);
    expect(Array.from(s.labels)).toEqual([2, 3]);
    expect(Array.from(s.images)).toEqual(Array.from(ds.images.subarray(12, 24)));
    expect(s.images.buffer).toBe(ds.images.buffer);
    expect(subset(ds, 5, 0).count).toBe(0);
  });

  it('refuses ranges outside the dataset', () => {
    const ds = datasetFromIdx(images(5), labels([0, 1, 2, 3, 4]), names);
    for (const [a, b] of [
      [4, 2],
      [-1, 1],
      [0, 1.5],
      [0, -1],
    ]) {
      expect(() => subset(ds, a, b)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
