import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import decodeJpeg from 'jpeg-js/lib/decoder.js';
import { fail, LayerhiveError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { ImageDataset } from './dataset.js';

// Your own images, browser-safe (no node:fs): decoding (fast-png, jpeg-js), conversion to grey or RGB, resizing, and
// the image-folder convention `train/<class>/*.png|jpg` (and `test/<class>/…`). The Node folder walker is
// image-folder-file.ts; the app feeds the same function the files of an `<input webkitdirectory>`.

/** File names read as images (case-insensitive); other files in the folder are ignored. */
export const IMAGE_EXTENSIONS = Object.freeze(['.png', '.jpg', '.jpeg']);

/** An image as decoded: 8-bit, interleaved (height × width × channels), alpha composited over black. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** What the images become: `size` × `size` pixels (28 by default), 1 channel (grey, the default) or 3 (RGB). */
export interface ImageFormat {
  size?: number;
  channels?: 1 | 3;
}

export interface ImageFolderOptions extends ImageFormat {
  /** Leave unreadable images out (listed in `skipped`) instead of failing with DATA_INVALID; false by default. */
  skipBadImages?: boolean;
  /** With no `test/` folder: the share of each class held out as the test set (0.2 by default), drawn with `seed`. */
  testFraction?: number;
  /** Seed of the held-out split and of the image order (0 by default); the same seed gives the same datasets. */
  seed?: number;
  /** Shown before each path in errors (the folder's name); '' by default. */
  root?: string;
}

/** One file of the folder: its path under the folder's root ('train/cat/1.png', '/' separators) and its bytes. */
export interface ImageFileEntry {
  path: string;
  bytes: () => Promise<Uint8Array>;
}

export interface SkippedImage {
  path: string;
  reason: string;
}

export interface ImageFolderData {
  train: ImageDataset;
  test: ImageDataset;
  /** Label i is `classNames[i]`: the class folders' names, sorted by code point. */
  classNames: string[];
  /** Whether the test set came from a `test/` folder (true) or was held out of `train/` with the seed (false). */
  testFolder: boolean;
  /** Unreadable images left out (only with `skipBadImages`). */
  skipped: SkippedImage[];
}

/** Whether `path` names a PNG or JPEG file by its extension. */
export function isImagePath(path: string): boolean {
  const p = path.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => p.endsWith(e));
}

/**
 * PNG (any bit depth, palette, alpha, interlace) or JPEG (baseline, progressive) bytes, found by their signature,
 * decoded to 8-bit grey or RGB. Alpha is composited over black; 16-bit samples are rounded to 8 bits. Anything else,
 * or damaged bytes, is a DATA_INVALID error naming `name`.
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const bad = (why: string): never =>
    fail('DATA_INVALID', `${name} is not a readable image: ${why}`, 'remove or replace the file (PNG or JPEG)');
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) return bad('neither a PNG nor a JPEG signature');
  let img: DecodedImage;
  try {
    img = isPng ? fromPng(bytes) : fromJpeg(bytes);
  } catch (e) {
    if (e instanceof LayerhiveError) throw e;
    return bad(`${isPng ? 'PNG' : 'JPEG'} decoding failed (${(e as Error).message})`);
  }
  if (!(img.width > 0 && img.height > 0)) return bad(`its size is ${img.width}×${img.height}`);
  return img;
}

/** The most pixels an image may declare (checked before decoding: a tiny file may declare a huge image). */
export const MAX_IMAGE_MEGAPIXELS = 50;

function fromPng(bytes: Uint8Array): DecodedImage {
  if (bytes.length >= 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const mp = (v.getUint32(16) * v.getUint32(20)) / 1e6; // IHDR width, height
    if (mp > MAX_IMAGE_MEGAPIXELS) throw new Error(`it declares ${mp.toFixed(0)} megapixels (at most 50 are read)`);
  }
  const png = decodePng(bytes, { checkCrc: true });
  const { width, height } = png;
  let data: Uint8Array | Uint8ClampedArray | Uint16Array = png.data;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length / (width * height);
  }
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  if (data.length < width * height * channels) throw new Error(`${data.length} samples for ${width}×${height}`);
  return composite(data, width, height, channels, max);
}

function fromJpeg(bytes: Uint8Array): DecodedImage {
  const jpg = decodeJpeg(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
    maxMemoryUsageInMB: 512,
  });
  return composite(jpg.data, jpg.width, jpg.height, 3, 255);
}

/** Samples in [0, max] with 1–4 interleaved channels (grey, grey+alpha, RGB, RGBA) → 8-bit grey or RGB. */
function composite(src: ArrayLike<number>, width: number, height: number, channels: number, max: number): DecodedImage {
  const n = width * height;
  const colour = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  const out = colour ? 3 : 1;
  const data = new Uint8Array(n * out);
  for (let i = 0; i < n; i++) {
    const a = alpha ? src[i * channels + channels - 1] / max : 1;
    for (let c = 0; c < out; c++) data[i * out + c] = Math.round((src[i * channels + c] * a * 255) / max);
  }
  return { width, height, channels: colour ? 3 : 1, data };
}

/**
 * `img` with `channels` channels: RGB → grey by ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, rounded; a grey
 * pixel R = G = B keeps its value), grey → RGB by repeating it.
 */
export function toChannels(img: DecodedImage, channels: 1 | 3): DecodedImage {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const data = new Uint8Array(n * channels);
  const s = img.data;
  if (channels === 1) {
    for (let i = 0; i < n; i++) data[i] = Math.round((299 * s[3 * i] + 587 * s[3 * i + 1] + 114 * s[3 * i + 2]) / 1000);
  } else {
    for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = s[i];
  }
  return { ...img, channels, data };
}

/**
 * Weights that take `from` samples to `to` along one axis: area averaging when shrinking (each output sample is the
 * mean of the input it covers, partial samples weighted by the share covered), bilinear with pixel centres at
 * i + ½ when enlarging (edges clamped). Row j of the result lists [input index, weight] pairs summing to 1.
 */
export function axisWeights(from: number, to: number): Array<Array<[number, number]>> {
  const rows: Array<Array<[number, number]>> = [];
  const scale = from / to;
  for (let j = 0; j < to; j++) {
    const row: Array<[number, number]> = [];
    if (scale >= 1) {
      const lo = j * scale,
        hi = (j + 1) * scale;
      for (let i = Math.floor(lo); i < Math.min(from, Math.ceil(hi)); i++) {
        const w = Math.min(hi, i + 1) - Math.max(lo, i);
        if (w > 0) row.push([i, w / scale]);
      }
    } else {
      const x = Math.min(from - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i = Math.floor(x),
        f = x - i;
      row.push([i, 1 - f]);
      if (f > 0) row.push([i + 1, f]);
    }
    rows.push(row);
  }
  return rows;
}

/**
 * `img` resized to `rows` × `cols` (the aspect ratio is not kept), as planar channels × rows × cols bytes, each
 * rounded to the nearest integer. Separable: columns first, then rows, in float64.
 */
export function resizeImage(img: DecodedImage, rows: number, cols: number): Uint8Array {
  const { width, height, channels, data } = img;
  const wx = axisWeights(width, cols),
    wy = axisWeights(height, rows);
  const out = new Uint8Array(channels * rows * cols);
  const tmp = new Float64Array(height * cols);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < cols; x++) {
        let s = 0;
        for (const [i, w] of wx[x]) s += w * data[(y * width + i) * channels + c];
        tmp[y * cols + x] = s;
      }
    }
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        let s = 0;
        for (const [i, w] of wy[y]) s += w * tmp[i * cols + x];
        out[(c * rows + y) * cols + x] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return out;
}

/** Image bytes → the model's input: decoded, converted to `channels`, resized to `size` × `size`, planar. */
export function imageToInput(bytes: Uint8Array, name: string, format: ImageFormat = {}): Uint8Array {
  const { size, channels } = checkFormat(format);
  return resizeImage(toChannels(decodeImage(bytes, name), channels), size, size);
}

function checkFormat(format: ImageFormat): { size: number; channels: 1 | 3 } {
  const size = format.size ?? 28,
    channels = format.channels ?? 1;
  if (!Number.isInteger(size) || size < 1 || size > 1024)
    fail('INVALID_ARGUMENT', `image size ${size} is not an integer in [1, 1024]`, 'pass a side such as 28 or 32');
  if (channels !== 1 && channels !== 3) fail('INVALID_ARGUMENT', `channels is ${channels}`, 'pass 1 (grey) or 3 (RGB)');
  return { size, channels };
}

/**
 * Datasets from the files of an image folder: `train/<class>/…/*.png|jpg|jpeg` and, if present, `test/<class>/…`
 * (paths relative to the folder; other files are ignored). Classes are the `train/` subfolders, sorted by code point;
 * a test class with no training folder is an error. With no `test/` folder, `testFraction` of each class (at least
 * one image of a class with two or more) is held out, chosen with `seed`. Images are in a seeded shuffled order, so a
 * prefix (`--limit`) holds every class. An unreadable image is a DATA_INVALID error naming it, unless
 * `skipBadImages`.
 */
export async function loadImageFolder(
  files: readonly ImageFileEntry[],
  options: ImageFolderOptions = {},
): Promise<ImageFolderData> {
  const { size, channels } = checkFormat(options);
  const seed = options.seed ?? 0,
    testFraction = options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1))
    fail('INVALID_ARGUMENT', `testFraction is ${testFraction}`, 'pass a share in (0, 1), such as 0.2');
  const root = options.root ? `${options.root.replace(/\/+$/, '')}/` : '';
  const where = root ? root.slice(0, -1) : 'the folder';
  const found: Record<'train' | 'test', Map<string, ImageFileEntry[]>> = { train: new Map(), test: new Map() };
  for (const f of files) {
    const parts = f.path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length < 3 || (parts[0] !== 'train' && parts[0] !== 'test') || !isImagePath(f.path)) continue;
    if (parts.some((p) => p.startsWith('.'))) continue; // hidden files and folders (.DS_Store, ._x.png, .git)
    const split = found[parts[0] as 'train' | 'test'];
    const list = split.get(parts[1]) ?? [];
    list.push({ path: parts.join('/'), bytes: f.bytes });
    split.set(parts[1], list);
  }
  const classNames = [...found.train.keys()].sort(byCodePoint);
  if (classNames.length < 2)
    fail(
      'DATA_INVALID',
      `${where} holds ${classNames.length} class folder(s) of images under train/`,
      'an image folder holds train/<class>/*.png|jpg with two or more classes (and optionally test/<class>/…)',
    );
  if (classNames.length > 256)
    fail('DATA_INVALID', `${root}train/ holds ${classNames.length} classes`, 'use at most 256 classes');
  for (const name of found.test.keys()) {
    if (!found.train.has(name))
      fail(
        'DATA_INVALID',
        `${root}test/${name} is a class with no training images (no ${root}train/${name})`,
        'give every test class a folder of training images, or remove it',
      );
  }
  const skipped: SkippedImage[] = [];
  const per = channels * size * size;
  const read = async (split: Map<string, ImageFileEntry[]>) => {
    const pixels: Uint8Array[][] = [];
    for (const name of classNames) {
      const list = [...(split.get(name) ?? [])].sort((a, b) => byCodePoint(a.path, b.path));
      const images: Uint8Array[] = [];
      for (const f of list) {
        try {
          let bytes: Uint8Array;
          try {
            bytes = await f.bytes();
          } catch (e) {
            fail('DATA_INVALID', `cannot read ${root}${f.path}: ${(e as Error).message}`, 'check the file');
          }
          images.push(imageToInput(bytes, `${root}${f.path}`, { size, channels }));
        } catch (e) {
          if (!(options.skipBadImages && e instanceof LayerhiveError && e.code === 'DATA_INVALID')) {
            if (e instanceof LayerhiveError && e.code === 'DATA_INVALID')
              fail('DATA_INVALID', e.detail, `${e.hint}, or pass --skip-bad-images (skipBadImages) to leave it out`);
            throw e;
          }
          skipped.push({ path: `${root}${f.path}`, reason: e.detail });
        }
      }
      pixels.push(images);
    }
    return pixels;
  };
  const trainPixels = await read(found.train);
  const testFolder = found.test.size > 0;
  let testPixels: Uint8Array[][];
  if (testFolder) testPixels = await read(found.test);
  else {
    const rng = Rng.stream(seed, 'image-folder-split');
    testPixels = trainPixels.map((images, c) => {
      const order = shuffled(images.length, rng);
      const held = images.length < 2 ? 0 : Math.max(1, Math.round(testFraction * images.length));
      const test = order.slice(0, held).sort((a, b) => a - b);
      const keep = order.slice(held).sort((a, b) => a - b);
      trainPixels[c] = keep.map((i) => images[i]);
      return test.map((i) => images[i]);
    });
  }
  const build = (pixels: Uint8Array[][], streamName: string, what: string): ImageDataset => {
    const all = pixels.flatMap((images, label) => images.map((img) => ({ img, label })));
    if (all.length === 0)
      fail('DATA_INVALID', `${where} holds no readable ${what} images`, 'put PNG or JPEG files in the class folders');
    const order = shuffled(all.length, Rng.stream(seed, streamName));
    const images = new Uint8Array(all.length * per),
      labels = new Uint8Array(all.length);
    order.forEach((k, i) => {
      images.set(all[k].img, i * per);
      labels[i] = all[k].label;
    });
    return { images, labels, count: all.length, shape: [channels, size, size], classes: classNames.length };
  };
  return {
    train: build(trainPixels, 'image-folder-train-order', 'training'),
    test: build(testPixels, 'image-folder-test-order', 'test'),
    classNames,
    testFolder,
    skipped,
  };
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A seeded permutation of 0 … n − 1 (Fisher–Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
