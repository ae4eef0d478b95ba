import * as lh from '../../src/index.js';
import type { ImageFileEntry, SkippedImage } from '../../src/index.js';
import { plural } from './teach-panel.js';

// Reading a folder of digit images into samples. Loaded on the first import (folder-import.ts): 52 kB of PNG decoding
// (fast-png's decoder, fflate) stay out of the app's first load.

/** Images or a folder left out, with why; `images`: how many images that is. */
export interface Skipped extends SkippedImage {
  images: number;
}

/** An image of the folder to teach, labelled by its digit folder. */
export interface FolderImage {
  file: ImageFileEntry;
  label: number;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The images of a folder laid out `<digit>/…/*.png|jpg|jpeg` (or `train/<digit>/…`), paths relative to the folder,
 * in the order they are stored: by digit, then by path. A folder not named 0–9 (the classes the app's networks know)
 * is skipped whole, with why; so is `test/` beside `train/` (the app keeps its own samples aside to test on), and an
 * image not inside a digit folder. Other files (not PNG or JPEG by name) and hidden ones are ignored, as the
 * library's image folders ignore them.
 */
export function planFolder(files: readonly ImageFileEntry[]): { images: FolderImage[]; skipped: Skipped[] } {
  const usable = files
    .map((f) => ({ f, parts: f.path.split('/').filter((p) => p !== '' && p !== '.') }))
    .filter(({ f, parts }) => lh.isImagePath(f.path) && !parts.some((p) => p.startsWith('.')));
  const underTrain = usable.some(({ parts }) => parts[0] === 'train' && parts.length >= 3);
  const images: FolderImage[] = [];
  // what is left out, grouped: a folder with why (and how many images), loose images by why (with a few names)
  const folders = new Map<string, { count: number; why: string }>(),
    loose = new Map<string, string[]>();
  const leave = (folder: string, why: string) =>
    folders.set(folder, { count: (folders.get(folder)?.count ?? 0) + 1, why });
  const stray = (path: string, why: string) => loose.set(why, [...(loose.get(why) ?? []), path]);
  for (const { f, parts } of usable) {
    const path = parts.join('/');
    let rest = parts;
    if (underTrain) {
      if (parts[0] !== 'train') {
        if (parts.length === 1) stray(path, 'outside train/');
        else if (parts[0] === 'test') leave('test/', 'is not read: the app keeps its own samples aside to test on');
        else leave(`${parts[0]}/`, 'is outside train/');
        continue;
      }
      rest = parts.slice(1);
    }
    const where = underTrain ? 'train/' : '';
    if (rest.length < 2) stray(path, `not in a digit folder (${where}0 … ${where}9)`);
    else if (!/^[0-9]$/.test(rest[0]))
      leave(`${where}${rest[0]}/`, 'is not a digit folder: the networks here know only the digits 0–9');
    else images.push({ file: { path, bytes: f.bytes }, label: Number(rest[0]) });
  }
  images.sort((a, b) => a.label - b.label || byCodePoint(a.file.path, b.file.path));
  const skipped: Skipped[] = [
    ...[...folders].map(([path, { count, why }]) => ({
      path,
      images: count,
      reason: `${path} ${why} (${plural(count, 'image')} left out)`,
    })),
    ...[...loose].map(([why, paths]) => {
      const names = paths.sort(byCodePoint).slice(0, 3).join(', ');
      return {
        path: paths[0],
        images: paths.length,
        reason:
          paths.length === 1
            ? `${paths[0]} is ${why}`
            : `${paths.length} images are ${why}: ${names}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`,
      };
    }),
  ];
  return { images, skipped };
}

/**
 * Each image decoded and made a 28×28 grey sample by the library's image-folder code (`imageToInput`: the same
 * decoding and resizing `layerhive train --data <folder>` uses). Not centred by its centre of mass as a drawing is:
 * an image in MNIST's own format (a light digit on black, in a 20-pixel box already centred that way) is what the
 * networks read, and centring it again would only resample it; so a folder teaches here exactly what it trains from
 * the CLI. An unreadable image is skipped, named with the library's reason; any other failure stops the import.
 */
export async function readImages(
  images: readonly FolderImage[],
  onProgress: (done: number) => void,
): Promise<{ samples: { pixels: Uint8Array; label: number }[]; skipped: Skipped[] }> {
  const samples: { pixels: Uint8Array; label: number }[] = [],
    skipped: Skipped[] = [];
  let shown = performance.now();
  for (const [i, { file, label }] of images.entries()) {
    let bytes: Uint8Array | null = null;
    try {
      bytes = await file.bytes();
    } catch (e) {
      skipped.push({ path: file.path, images: 1, reason: `${file.path} could not be read (${(e as Error).message})` });
    }
    if (bytes)
      try {
        samples.push({ pixels: lh.imageToInput(bytes, file.path, { size: 28, channels: 1 }), label });
      } catch (e) {
        if (!(e instanceof lh.LayerhiveError && e.code === 'DATA_INVALID')) throw e;
        skipped.push({ path: file.path, images: 1, reason: e.detail });
      }
    // a large photo takes a while to decode: let the page draw the progress bar now and then
    if (performance.now() - shown > 40) {
      onProgress((i + 1) / images.length);
      await new Promise((r) => setTimeout(r));
      shown = performance.now();
    }
  }
  onProgress(1);
  return { samples, skipped };
}

/** Whether a 28×28 sample's border is mostly light: dark ink on white paper, the opposite of what the networks read. */
const lightBackground = (pixels: Uint8Array) => {
  let sum = 0;
  for (let i = 0; i < 28; i++) sum += pixels[i] + pixels[27 * 28 + i] + pixels[i * 28] + pixels[i * 28 + 27];
  return sum / (4 * 28) > 127;
};

/** "15 images added: 3 ×5, 5 ×5, 7 ×5; 2 skipped (listed below)" (images), and a word on images that look inverted. */
export function summary(
  samples: readonly { pixels: Uint8Array; label: number }[],
  skipped: readonly Skipped[],
  name: string,
) {
  const left = skipped.reduce((n, s) => n + s.images, 0);
  const per = Array.from({ length: 10 }, (_, d) => samples.filter((s) => s.label === d).length);
  const counts = per.flatMap((n, d) => (n ? [`${d} ×${n}`] : []));
  const light = samples.filter((s) => lightBackground(s.pixels)).length;
  return (
    (samples.length
      ? `${plural(samples.length, 'image')} added: ${counts.join(', ')}`
      : `no images added: “${name}” holds no readable PNG or JPEG images in folders named 0 to 9`) +
    (left ? `; ${left} skipped (listed below)` : '') +
    (light
      ? `. ${light} of the images added ${light === 1 ? 'looks' : 'look'} like dark ink on a light background: ` +
        'the networks read light digits on black (as the pad draws them), so invert such images before teaching them'
      : '')
  );
}
