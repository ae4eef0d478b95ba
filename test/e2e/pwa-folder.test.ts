// @module-tag behaviour
/**
 * Teach from a folder (issue 17, item 7, the browser side), in real Chromium on the built app: a folder of MNIST PNGs
 * chosen through the `<input webkitdirectory>` becomes taught samples, each exactly the 28×28 pixels the library's
 * image-folder decoder gives for its file; a corrupt PNG and a folder not named for a digit are skipped and named;
 * what was stored before stays; Undo takes the import back; `train/<digit>/` is read and `test/` beside it is not; a
 * folder over the limit adds nothing. Each test has a fresh browser profile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { imageToInput } from '../../src/data/image-folder.js';
import { mnistDataDir } from '../../src/data/idx-file.js';
import { greyToRgba, pngOf } from '../unit/data/image-files.js';
import { useBrowser } from './fixture.js';
import { msg, openApp as open, serveBuiltApp, storedLabels, storedSamples, teach } from './app-page.js';

const env = useBrowser({ serve: serveBuiltApp });
const openApp = () => open(env.server.url);
const tmp = join(import.meta.dirname, '../../.tmp/pwa-folder');

/** The first `n` MNIST training digits of each of `digits`: their pixels, by digit. */
function mnistDigits(digits: number[], n: number): Map<number, Uint8Array[]> {
  const dir = mnistDataDir();
  const images = readFileSync(join(dir, 'train-images-idx3-ubyte')).subarray(16);
  const labels = readFileSync(join(dir, 'train-labels-idx1-ubyte')).subarray(8);
  const out = new Map(digits.map((d) => [d, [] as Uint8Array[]]));
  for (let i = 0; i < labels.length && [...out.values()].some((l) => l.length < n); i++) {
    const l = out.get(labels[i]);
    if (l && l.length < n) l.push(new Uint8Array(images.subarray(i * 784, (i + 1) * 784)));
  }
  return out;
}

const png = (grey: Uint8Array) => pngOf(greyToRgba(grey), 28, 28);

/** Writes `files` (path under `dir` → bytes). */
async function writeFolder(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
}

const summary = (page: Page) => page.locator('#folder-summary').textContent();

/** Chooses `dir` in the folder input (found by its label) and waits for the import's summary. */
async function chooseFolder(page: Page, dir: string): Promise<string> {
  const before = await summary(page);
  await page.getByLabel('Choose a folder').setInputFiles(dir);
  await expect.poll(() => summary(page), { timeout: 60_000 }).toMatch(/added|failed/);
  await expect.poll(() => summary(page)).not.toBe(before);
  return (await summary(page))!;
}

const DIGITS = [2, 5, 8];

beforeAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe.sequential('teach from a folder', () => {
  it('adds each digit folder’s PNGs as samples (the library decoder’s pixels), naming what it skipped', async () => {
    const digits = mnistDigits(DIGITS, 5);
    const dir = join(tmp, 'digits');
    const files: Record<string, Uint8Array | string> = {};
    for (const [d, list] of digits) for (const [i, grey] of list.entries()) files[`${d}/${i}.png`] = png(grey);
    const good = png(digits.get(5)![0]);
    files['5/bad.png'] = good.subarray(0, good.length - 30); // a PNG cut short: its last chunks are missing
    files['cat/0.png'] = png(digits.get(2)![1]);
    files['notes.txt'] = 'not an image: ignored';
    files['scan-1.png'] = files['scan-2.png'] = png(digits.get(8)![0]); // beside the digit folders, not in one
    await writeFolder(dir, files);

    const { page, close } = await openApp();
    try {
      await teach(page, 4); // stored before the import, and still there after it
      const text = await chooseFolder(page, dir);
      expect(text).toBe('15 images added: 2 ×5, 5 ×5, 8 ×5; 4 skipped (listed below)');
      expect(await page.locator('ul.skipped li').allTextContents()).toEqual([
        'cat/ is not a digit folder: the networks here know only the digits 0–9 (1 image left out)',
        '2 images are not in a digit folder (0 … 9): scan-1.png, scan-2.png',
        expect.stringMatching(/^5\/bad\.png is not a readable image: PNG decoding failed/),
      ]);
      expect(await msg(page)).toBe('added 15 images from “digits” (16 samples)');

      // stored by digit, then by file name, after the drawn 4; each the pixels the library gives for its file
      const stored = await storedSamples(page);
      expect(stored.map((s) => s.label)).toEqual([4, ...DIGITS.flatMap((d) => Array(5).fill(d))]);
      for (const [k, s] of stored.slice(1).entries()) {
        const d = DIGITS[Math.floor(k / 5)],
          path = `${d}/${k % 5}.png`;
        const expected = imageToInput(new Uint8Array(await readFile(join(dir, path))), path);
        expect(s.pixels, path).toEqual(Array.from(expected));
        expect(s.pixels, `${path}: MNIST's own pixels`).toEqual(Array.from(digits.get(d)![k % 5]));
      }

      // My samples lists them (newest first) with their labels; Learn counts them
      await expect
        .poll(() => page.locator('ul.samples li b').allTextContents())
        .toEqual([...[...DIGITS].reverse().flatMap((d) => Array(5).fill(String(d))), '4']);
      expect(await page.locator('#learn').textContent()).toBe('Learn from my 16 samples');

      for (const control of ['#teach-folder', '#undo-import'])
        expect((await page.locator(control).boundingBox())!.height, control).toBeGreaterThanOrEqual(44);

      // Undo takes the whole import back (asking first), and only it
      page.on('dialog', (d) => void d.accept());
      await page.locator('#undo-import').click();
      await expect.poll(() => storedLabels(page)).toEqual([4]);
      expect(await msg(page)).toBe('removed the 15 imported images');
      await expect.poll(() => page.locator('ul.samples li').count()).toBe(1);
    } finally {
      await close();
    }
  }, 180_000);

  it('reads train/<digit>/, not test/ beside it; notes inverted images; over the limit adds nothing', async () => {
    const digits = mnistDigits([1, 7], 3);
    const split = join(tmp, 'split');
    const files: Record<string, Uint8Array> = {};
    for (const [d, list] of digits) for (const [i, grey] of list.entries()) files[`train/${d}/${i}.png`] = png(grey);
    files['test/1/0.png'] = png(digits.get(1)![0]);
    files['train/1/inverted.png'] = png(digits.get(1)![0].map((v) => 255 - v)); // dark ink on white: added, noted
    await writeFolder(split, files);
    const many = join(tmp, 'many');
    const one = png(digits.get(7)![0]);
    await writeFolder(many, Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`7/${i}.png`, one])));

    const { page, close } = await openApp();
    try {
      expect(await chooseFolder(page, split)).toBe(
        '7 images added: 1 ×4, 7 ×3; 1 skipped (listed below). 1 of the images added looks like dark ink on a light ' +
          'background: the networks read light digits on black (as the pad draws them), so invert such images ' +
          'before teaching them',
      );
      expect(await page.locator('ul.skipped li').allTextContents()).toEqual([
        'test/ is not read: the app keeps its own samples aside to test on (1 image left out)',
      ]);
      expect(await storedLabels(page)).toEqual([1, 1, 1, 1, 7, 7, 7]);

      expect(await chooseFolder(page, many)).toBe(
        'nothing added: “many” holds 2,001 images in digit folders, and one import takes at most 2,000: ' +
          'choose a folder with fewer (or import it in parts)',
      );
      expect(await storedLabels(page)).toEqual([1, 1, 1, 1, 7, 7, 7]);
    } finally {
      await close();
    }
  }, 180_000);
});
