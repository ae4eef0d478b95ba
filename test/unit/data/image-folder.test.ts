import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../../src/data/idx-file.js';
import {
  axisWeights,
  decodeImage,
  type ImageFileEntry,
  imageToInput,
  loadImageFolder,
  resizeImage,
} from '../../../src/data/image-folder.js';
import { isImageFolder, readImageFolder } from '../../../src/data/image-folder-file.js';
import type { ImageDataset } from '../../../src/data/dataset.js';
import { greyToRgba, jpegOfGrey, pngOf, writeDigits } from './image-files.js';

const tmp = join(import.meta.dirname, '../../../.tmp/data-image-folder');
const invalid = (msg: RegExp) => expect.objectContaining({ code: 'DATA_INVALID', message: expect.stringMatching(msg) });
const N_TRAIN = 60,
  N_TEST = 20;

/** Each image of `ds` as a key of its bytes, with its label. */
const keyed = (ds: ImageDataset) => {
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return Array.from({ length: ds.count }, (_, i) => ({
    key: Buffer.from(ds.images.subarray(i * per, (i + 1) * per)).toString('base64'),
    label: ds.labels[i],
  }));
};

let mnist: Awaited<ReturnType<typeof loadMnist>>;
beforeAll(async () => {
  mnist = await loadMnist();
  await rm(tmp, { recursive: true, force: true });
  await writeDigits(join(tmp, 'digits'), 'train', mnist.train.images, mnist.train.labels, N_TRAIN);
  await writeDigits(join(tmp, 'digits'), 'test', mnist.test.images, mnist.test.labels, N_TEST);
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('decoding', () => {
  it('reads MNIST digits written as grey PNGs back byte for byte, with labels from folder names', {
    tags: ['hand-computed'],
  }, async () => {
    const dir = join(tmp, 'digits');
    expect(await isImageFolder(dir)).toBe(true);
    const d = await readImageFolder(dir);
    // the 60 first training digits hold every class 0–9, so the folder names 0 … 9 are the labels
    expect(d.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(d.testFolder).toBe(true);
    expect(d.skipped).toEqual([]);
    for (const [ds, src, n] of [
      [d.train, mnist.train, N_TRAIN],
      [d.test, mnist.test, N_TEST],
    ] as const) {
      expect(ds.count).toBe(n);
      expect(ds.shape).toEqual([1, 28, 28]);
      const want = new Map(keyed({ ...src, count: n }).map((x) => [x.key, x.label]));
      const got = keyed(ds);
      // every image loaded equals one MNIST digit exactly (lossless PNG, 28×28 needs no resizing), with its label
      for (const g of got) expect(want.get(g.key)).toBe(g.label);
      expect(new Set(got.map((g) => g.key)).size).toBe(want.size);
    }
  });

  it('reads RGB, grey + alpha and RGBA PNGs of a digit as the same grey bytes', { tags: ['hand-computed'] }, () => {
    const digit = mnist.train.images.subarray(0, 784);
    const rgba = greyToRgba(digit);
    for (const colour of [2, 4, 6] as const) {
      expect(Buffer.from(imageToInput(pngOf(rgba, 28, 28, colour), `c${colour}.png`))).toEqual(Buffer.from(digit));
    }
  });

  it('converts colour to grey by BT.601 luma and composites alpha over black', { tags: ['hand-computed'] }, () => {
    // red, green, blue, white at half alpha (128/255), as RGBA PNG
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 200, 200, 200, 128]);
    const png = pngOf(rgba, 4, 1, 6);
    // 0.299·255 = 76.245 → 76; 0.587·255 = 149.685 → 150; 0.114·255 = 29.07 → 29; 200·128/255 = 100.39 → 100
    const grey = decodeImage(png, 'x.png');
    expect(grey.channels).toBe(3);
    expect(Array.from(grey.data)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100]);
    // resizing 4×1 to 4×4 repeats the row (bilinear along y on one row); channels 1 takes the luma
    expect(Array.from(imageToInput(png, 'x.png', { size: 4, channels: 1 }).subarray(0, 4))).toEqual([76, 150, 29, 100]);
    // channels 3: planar R, G, B planes
    const rgb = imageToInput(png, 'x.png', { size: 4, channels: 3 });
    expect([rgb.subarray(0, 4), rgb.subarray(16, 20), rgb.subarray(32, 36)].map((p) => Array.from(p))).toEqual([
      [255, 0, 0, 100],
      [0, 255, 0, 100],
      [0, 0, 255, 100],
    ]);
  });

  it('reads MNIST digits written as JPEG within the tolerance of quality-95 compression', {
    tags: ['hand-computed'],
  }, async () => {
    // JPEG quantises 8×8 DCT blocks of Y (jpeg-js encodes 4:4:4, so a grey digit is Y alone, Cb = Cr = 128): at
    // quality 95 the quantisation steps are 1–4 levels, and the strokes' sharp 0↔255 edges ring by a few levels.
    // Measured on these 5 digits: max |Δ| 7, mean |Δ| 0.63 (jpeg-js decoding, this machine); the bounds leave room
    // for another decoder's rounding but would catch a channel, layout or colour-conversion mistake (tens of levels).
    let worst = 0,
      sum = 0;
    const n = 5;
    const folder: Record<string, Uint8Array> = {};
    for (let i = 0; i < n; i++) {
      const digit = mnist.train.images.subarray(i * 784, (i + 1) * 784);
      const jpg = jpegOfGrey(digit, 28, 28, 95);
      folder[`train/${i % 2 ? 'odd' : 'even'}/${i}.${i < 3 ? 'jpg' : 'JPEG'}`] = jpg;
      const got = imageToInput(jpg, `${i}.jpg`);
      for (let p = 0; p < 784; p++) {
        const e = Math.abs(got[p] - digit[p]);
        worst = Math.max(worst, e);
        sum += e;
      }
    }
    console.log(`JPEG q95, ${n} digits: max |Δ| ${worst}, mean |Δ| ${(sum / (n * 784)).toFixed(3)}`);
    expect(worst).toBeLessThanOrEqual(10);
    expect(sum / (n * 784)).toBeLessThan(1);
    // .jpg and .JPEG files in a folder, beside PNGs, are read too
    folder['test/odd/p.png'] = pngOf(greyToRgba(mnist.test.images.subarray(0, 784)), 28, 28);
    folder['test/even/p.png'] = folder['test/odd/p.png'];
    const d = await loadImageFolder(
      Object.entries(folder).map(([path, b]) => ({ path, bytes: async () => b })),
      { root: 'mixed' },
    );
    expect([d.train.count, d.test.count, d.skipped.length]).toEqual([5, 2, 0]);
  });
});

describe('resizing', () => {
  it('takes a 56×56 checkerboard of 2×2 blocks to the 28×28 checkerboard of single pixels', {
    tags: ['hand-computed'],
  }, () => {
    const data = new Uint8Array(56 * 56);
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) data[y * 56 + x] = ((y >> 1) + (x >> 1)) % 2 ? 255 : 0;
    const out = resizeImage({ width: 56, height: 56, channels: 1, data }, 28, 28);
    // each output pixel is the mean of exactly one uniform 2×2 block
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(out[y * 28 + x]).toBe((y + x) % 2 ? 255 : 0);
  });

  it('averages areas with partial coverage when shrinking 3×3 to 2×2', { tags: ['hand-computed'] }, () => {
    // input 30·(3r + c); output 0 covers input [0, 1.5): weights 2/3, 1/3; output 1 covers [1.5, 3): 1/3, 2/3
    expect(axisWeights(3, 2)).toEqual([
      [
        [0, 2 / 3],
        [1, 1 / 3],
      ],
      [
        [1, 1 / 3],
        [2, 2 / 3],
      ],
    ]);
    const data = new Uint8Array([0, 30, 60, 90, 120, 150, 180, 210, 240]);
    // 30·(3·E[r] + E[c]) with E = 1/3 or 5/3:
    // 30·(1 + 1/3) = 40, 30·(1 + 5/3) = 80, 30·(5 + 1/3) = 160, 30·(5 + 5/3) = 200
    expect(Array.from(resizeImage({ width: 3, height: 3, channels: 1, data }, 2, 2))).toEqual([40, 80, 160, 200]);
  });

  it('interpolates bilinearly with clamped edges when enlarging 2×2 to 4×4', { tags: ['hand-computed'] }, () => {
    // output j samples input (j + ½)/2 − ½ = −¼, ¼, ¾, 1¼ → clamped 0, ¼, ¾, 1
    const data = new Uint8Array([0, 100, 200, 255]);
    const out = Array.from(resizeImage({ width: 2, height: 2, channels: 1, data }, 4, 4));
    expect(out).toEqual(
      [
        [0, 25, 75, 100],
        // ¾·row 0 + ¼·row 1 = [50, 138.75], then along x: 50, 72.1875, 116.5625, 138.75
        [50, 72, 117, 139],
        // ¼·row 0 + ¾·row 1 = [150, 216.25]: 150, 166.5625, 199.6875, 216.25
        [150, 167, 200, 216],
        // [200, 255]: 200, 213.75, 241.25, 255
        [200, 214, 241, 255],
      ].flat(),
    );
  });
});

describe('the image-folder convention', () => {
  /** Entries of an in-memory folder: path → bytes (as the app hands over picked files). */
  const entries = (files: Record<string, Uint8Array>): ImageFileEntry[] =>
    Object.entries(files).map(([path, b]) => ({ path, bytes: async () => b }));
  const digitPng = (i: number) => pngOf(greyToRgba(mnist.train.images.subarray(i * 784, (i + 1) * 784)), 28, 28);

  it('names an unreadable image in a DATA_INVALID error, and skips and counts bad files when asked', {
    tags: ['behaviour'],
  }, async () => {
    const good = digitPng(0);
    const files = {
      'train/a/1.png': good,
      'train/a/2.png': good.subarray(0, 100), // truncated
      'train/b/1.png': good,
      'train/b/2.png': good,
      'train/a/3.png': good,
      'train/b/notes.jpg': new TextEncoder().encode('not a picture'),
      'train/b/readme.txt': new TextEncoder().encode('ignored: not an image name'),
    };
    await expect(loadImageFolder(entries(files), { root: 'pics' })).rejects.toThrow(
      invalid(/pics\/train\/a\/2\.png is not a readable image: PNG decoding failed.*--skip-bad-images/),
    );
    const d = await loadImageFolder(entries(files), { root: 'pics', skipBadImages: true });
    expect(d.skipped.map((s) => s.path)).toEqual(['pics/train/a/2.png', 'pics/train/b/notes.jpg']);
    expect(d.skipped[1].reason).toMatch(/notes\.jpg is not a readable image: neither a PNG nor a JPEG signature/);
    expect(d.train.count + d.test.count).toBe(4);
  });

  it('refuses a PNG declaring a huge image before decoding it', { tags: ['behaviour'] }, () => {
    const png = digitPng(0).slice();
    const v = new DataView(png.buffer);
    v.setUint32(16, 100_000); // IHDR width and height: 10 000 megapixels in a file of a few hundred bytes
    v.setUint32(20, 100_000);
    expect(() => decodeImage(png, 'bomb.png')).toThrow(invalid(/bomb\.png is not a readable image.*10000 megapixels/));
  });

  it('refuses a folder of fewer than two classes and a test class with no training folder', {
    tags: ['behaviour'],
  }, async () => {
    const png = digitPng(0);
    await expect(loadImageFolder(entries({ 'train/a/1.png': png }))).rejects.toThrow(invalid(/1 class folder/));
    await expect(
      loadImageFolder(entries({ 'train/a/1.png': png, 'train/b/1.png': png, 'test/c/1.png': png }), { root: 'p' }),
    ).rejects.toThrow(invalid(/p\/test\/c is a class with no training images/));
    await expect(readImageFolder(join(tmp, 'nowhere'))).rejects.toThrow(invalid(/has no train\/ folder/));
  });

  it('reads a corrupt file on disk as DATA_INVALID naming its path', { tags: ['behaviour'] }, async () => {
    const dir = join(tmp, 'corrupt');
    await mkdir(join(dir, 'train', 'x'), { recursive: true });
    await mkdir(join(dir, 'train', 'y'), { recursive: true });
    await mkdir(join(dir, 'test', 'y'), { recursive: true });
    await writeFile(join(dir, 'train', 'x', 'ok.png'), digitPng(1));
    await writeFile(join(dir, 'test', 'y', 'ok.png'), digitPng(3));
    await writeFile(join(dir, 'train', 'y', 'bad.png'), digitPng(2).subarray(0, 60));
    await expect(readImageFolder(dir)).rejects.toThrow(invalid(/corrupt\/train\/y\/bad\.png is not a readable image/));
    const d = await readImageFolder(dir, { skipBadImages: true });
    expect(d.skipped).toHaveLength(1);
  });

  it('holds out the same images for the same seed, a share of each class, disjoint from training', {
    tags: ['invariant'],
  }, async () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 40; i++) files[`train/${mnist.train.labels[i] % 2 ? 'odd' : 'even'}/${i}.png`] = digitPng(i);
    const a = await loadImageFolder(entries(files), { seed: 7 });
    const b = await loadImageFolder(entries(files), { seed: 7 });
    const c = await loadImageFolder(entries(files), { seed: 8 });
    expect(a.testFolder).toBe(false);
    expect(Buffer.from(a.test.images)).toEqual(Buffer.from(b.test.images));
    expect(Buffer.from(a.train.images)).toEqual(Buffer.from(b.train.images));
    expect(Buffer.from(a.train.labels)).toEqual(Buffer.from(b.train.labels));
    expect(Buffer.from(a.test.images)).not.toEqual(Buffer.from(c.test.images));
    const perClass = [0, 1].map((k) => Object.keys(files).filter((p) => p.includes(k ? '/odd/' : '/even/')).length);
    const held = [0, 1].map((k) => a.test.labels.filter((l) => l === k).length);
    expect(held).toEqual(perClass.map((n) => Math.round(0.2 * n)));
    const trainKeys = new Set(keyed(a.train).map((x) => x.key));
    for (const t of keyed(a.test)) expect(trainKeys.has(t.key)).toBe(false);
    expect(a.train.count + a.test.count).toBe(40);
  });
});
