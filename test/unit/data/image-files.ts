/** Writing image folders from MNIST digits for the image-folder tests: PNG through pngjs, JPEG through jpeg-js. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

/** PNG colour types of pngjs: 0 grey, 2 RGB, 4 grey + alpha, 6 RGBA. */
export type PngColour = 0 | 2 | 4 | 6;

/** A PNG of an 8-bit RGBA image `rgba` (width × height × 4), stored with `colorType`. */
export function pngOf(rgba: Uint8Array, width: number, height: number, colorType: PngColour = 0): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba);
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
}

/** Grey bytes (one a pixel) as opaque RGBA with R = G = B. */
export function greyToRgba(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 4);
  for (let i = 0; i < grey.length; i++) out.set([grey[i], grey[i], grey[i], 255], 4 * i);
  return out;
}

/** A baseline JPEG (jpeg-js's encoder) of grey bytes at `quality`. */
export function jpegOfGrey(grey: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  const { data } = jpeg.encode({ data: Buffer.from(greyToRgba(grey)), width, height }, quality);
  return new Uint8Array(data);
}

/** Digits `images` (n × 28 × 28) with `labels` written as `dir/<split>/<label>/<index>.png`; returns the paths. */
export async function writeDigits(
  dir: string,
  split: 'train' | 'test',
  images: Uint8Array,
  labels: Uint8Array,
  count: number,
): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const folder = join(dir, split, String(labels[i]));
    await mkdir(folder, { recursive: true });
    const path = join(folder, `${String(i).padStart(5, '0')}.png`);
    await writeFile(path, pngOf(greyToRgba(images.subarray(i * 784, (i + 1) * 784)), 28, 28));
    paths.push(path);
  }
  return paths;
}
