// @module-tag behaviour
/**
 * The app's explanations (dist/pwa) as a person reads them, in real Chromium (issue 16, item 4): every method's map
 * has a legend that says what its colours mean (red for / blue against the class for signed maps, dark → bright for
 * magnitudes) and the scale's values; the class explained can be chosen ("why not 7?") and the map, its legend, its
 * accessible name and the message then speak of that class; and the drawing's 28×28 image keeps all of its ink (a 7
 * heavy at the top does not lose its tail to the centring).
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from './fixture.js';
import { draw, msg, openApp as open, padPixels, predicted, serveBuiltApp } from './app-page.js';

// only the server is shared: each test launches its own browser with an empty profile (empty IndexedDB)
const env = useBrowser({ serve: serveBuiltApp });
const openApp = () => open(env.server.url);

/** Maps with a sign (red for the class, blue against) and magnitudes (dark → bright), by the app's method names. */
const SIGNED = ['integrated-gradients', 'occlusion', 'kernel-shap', 'lime'];
const MAGNITUDE = ['smoothgrad', 'grad-cam', 'saliency'];

/** Chooses `method`, asks Why? and waits until the map is drawn (the message says the model calls). */
async function explain(page: Page, method: string): Promise<void> {
  await page.locator('select[aria-label="attribution method"]').selectOption(method);
  await page.locator('#explain').click();
  await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(new RegExp(`^${method}: \\d+ model calls`));
}

/** The map's pixels as drawn on its canvas (RGBA). */
const mapPixels = (page: Page) =>
  page.evaluate(() => {
    const c = document.querySelector('lh-app')!.shadowRoot!.querySelector('canvas.map') as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  });

describe.sequential('the app explains so that a person can read it', () => {
  it('every method has a legend: red/blue with the scale for signed maps, dark → bright for magnitudes', async () => {
    const { page, close } = await openApp();
    try {
      await draw(page);
      await page.locator('nav button', { hasText: 'Predict & explain' }).click();
      const p = await predicted(page);
      const methods = await page
        .locator('select[aria-label="attribution method"] option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      expect([...methods].sort()).toEqual([...SIGNED, ...MAGNITUDE].sort());
      for (const method of methods) {
        await explain(page, method);
        const legend = page.locator('.legend');
        expect(await legend.count(), method).toBe(1);
        const text = (await legend.textContent())!.replace(/\s+/g, ' ');
        expect(text, method).toContain(`Explaining class ${p}, the one predicted`);
        // a bar of the scale's colours beside its values
        expect(await page.locator('.legend .scale').getAttribute('style'), method).toMatch(/linear-gradient/);
        const ends = await page.locator('.legend .ends span').allTextContents();
        if (SIGNED.includes(method)) {
          expect(text, method).toMatch(new RegExp(`Red: speaks for ${p}\\. Blue: speaks against ${p}\\.`));
          expect(ends, method).toHaveLength(3);
          expect(ends[0], method).toMatch(new RegExp(`^−\\d[\\d.e−+]* against ${p}$`));
          expect(ends[2], method).toMatch(new RegExp(`^\\+\\d[\\d.e−+]* for ${p}$`));
        } else {
          expect(text, method).toMatch(/Bright: matters most/);
          expect(text, method).not.toMatch(/Blue/);
          expect(ends, method).toHaveLength(2);
          expect(ends[0]).toBe('0');
          expect(Number(ends[1].replace('−', '-')), method).toBeGreaterThan(0);
        }
        // and a short "how to read this" beside the picture
        expect(await page.locator('.how').textContent(), method).toMatch(/^How to read this: \S.{40,}/);
      }
    } finally {
      await close();
    }
  }, 240_000);

  it('explains the class chosen ("why not …?"): its map, legend, name and message are of that class', async () => {
    const { page, close } = await openApp();
    try {
      await draw(page);
      await page.locator('nav button', { hasText: 'Predict & explain' }).click();
      const p = await predicted(page);
      await explain(page, 'integrated-gradients');
      expect(await msg(page)).toMatch(new RegExp(`class ${p} \\(predicted\\)$`));
      const mapOfPredicted = await mapPixels(page);
      expect(await page.getByRole('radio', { name: `${p} (predicted)` }).isChecked()).toBe(true);
      const q = (p + 3) % 10;
      await page.getByRole('radio', { name: String(q), exact: true }).check();
      // the class chosen is explained at once; the Attribution's target is in the message
      await expect
        .poll(() => msg(page), { timeout: 60_000 })
        .toMatch(new RegExp(`^integrated-gradients: \\d+ model calls, \\d+ ms, class ${q} \\(predicted: ${p}\\)$`));
      expect((await page.locator('.legend-title').textContent())!.replace(/\s+/g, ' ')).toBe(
        `Explaining class ${q} (predicted: ${p})`,
      );
      expect(await page.locator('.legend').textContent()).toContain(`speaks against ${q}`);
      expect(await page.locator('#explain').textContent()).toBe(`Why not ${q}?`);
      expect(await page.locator('canvas.map').getAttribute('aria-label')).toBe(
        `Integrated gradients map of class ${q} (predicted: ${p})`,
      );
      const mapOfChosen = await mapPixels(page);
      expect(mapOfChosen).toHaveLength(mapOfPredicted.length);
      let differ = 0;
      for (let i = 0; i < mapOfChosen.length; i++) if (mapOfChosen[i] !== mapOfPredicted[i]) differ++;
      expect(differ).toBeGreaterThan(mapOfChosen.length / 100);
      // the Why? button, too, explains the class chosen
      await page.locator('#explain').click();
      await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(new RegExp(`class ${q} \\(predicted: ${p}\\)$`));
    } finally {
      await close();
    }
  }, 120_000);

  it('the map canvas has an accessible name that says the method and the class', async () => {
    const { page, close } = await openApp();
    try {
      await draw(page);
      await page.locator('nav button', { hasText: 'Predict & explain' }).click();
      const p = await predicted(page);
      await explain(page, 'grad-cam');
      const map = page.getByRole('img', { name: `Grad-CAM map of class ${p} (predicted)` });
      expect(await map.count()).toBe(1);
      expect(await map.evaluate((c) => c.tagName)).toBe('CANVAS');
      // every control on the tab has a name
      for (const control of await page.locator('lh-app select, lh-app input, lh-app button').all()) {
        if (!(await control.isVisible())) continue;
        const name = await control.evaluate(
          (e) => e.getAttribute('aria-label') ?? (e.closest('label')?.textContent || e.textContent || '').trim(),
        );
        expect(name).not.toBe('');
      }
    } finally {
      await close();
    }
  }, 120_000);

  it('keeps the whole digit in the 28×28 frame: a 7 heavy at the top keeps its tail (20 rows of ink)', async () => {
    const { page, close } = await openApp();
    try {
      // a thick bar along the top and a long thin tail to the pad's bottom edge: the centre of mass is high, so
      // centring it at row 14 would push the bottom of the 20-pixel box out of the frame
      const bar = [25, 40, 55, 70, 85, 100].map((y) => [
        [20, y],
        [260, y],
      ]);
      await draw(page, 0, [
        ...bar,
        [
          [255, 30],
          [150, 265],
        ],
      ]);
      await predicted(page);
      const px = (await padPixels(page))!;
      expect(px).toHaveLength(784);
      const rows: number[] = [],
        cols: number[] = [];
      px.forEach((v, i) => {
        if (v > 0) {
          rows.push(Math.floor(i / 28));
          cols.push(i % 28);
        }
      });
      const height = Math.max(...rows) - Math.min(...rows) + 1,
        width = Math.max(...cols) - Math.min(...cols) + 1;
      // MNIST's box: the longer side 20 pixels, all of it inside the frame
      expect(Math.max(height, width)).toBe(20);
      expect(height).toBe(20);
      // and the centre of mass as near the centre as that allows: the box rests on the frame's bottom edge
      expect(Math.max(...rows)).toBe(27);
    } finally {
      await close();
    }
  }, 120_000);
});
