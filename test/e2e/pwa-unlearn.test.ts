// @module-tag behaviour
/**
 * "Forget these samples" (issue 20), in real Chromium on the built app: a model taught a drawing as the wrong digit
 * unlearns those samples with SalUn — a new version, the samples gone from IndexedDB, the other samples kept — and
 * afterwards reads the drawing as the shipped model (never taught them) does.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from './fixture.js';
import { draw, msg, ONE, openApp as open, predicted, serveBuiltApp, storedLabels, teach } from './app-page.js';

const env = useBrowser({ serve: serveBuiltApp });
const openApp = () => open(env.server.url);

async function probabilities(page: Page): Promise<number[]> {
  await page.locator('nav button', { hasText: 'Predict & explain' }).click();
  await expect.poll(() => page.locator('.bar').count()).toBe(10);
  return (await page.locator('.bar span:last-child').allTextContents()).map((t) => Number.parseFloat(t) / 100);
}

describe.sequential('forget these samples', () => {
  it('unlearns the selected samples into a new version; the others stay', async () => {
    const { page, close } = await openApp();
    try {
      await draw(page);
      const base = await predicted(page);
      const before = await probabilities(page);
      await page.locator('nav button', { hasText: 'Teach' }).click();
      const wrong = (base + 5) % 10;
      for (let i = 0; i < 6; i++) await teach(page, wrong, (i % 3) * 4 - 4);
      for (let i = 0; i < 3; i++) await teach(page, 1, i * 4 - 4, ONE);
      await page.locator('#learn').click();
      await expect.poll(() => msg(page), { timeout: 180_000, interval: 250 }).toMatch(/^learned|^learning failed/);
      expect(await msg(page)).toMatch(/^learned/);
      await page.locator('button', { hasText: 'Clear' }).click();
      await draw(page);
      expect(await predicted(page)).toBe(wrong); // it learned the drawing as the wrong digit
      // select the wrong samples only, and forget them
      const items = page.locator('ul.samples li');
      for (let i = 0; i < (await items.count()); i++)
        if (Number(await items.nth(i).locator('b').textContent()) === wrong)
          await items.nth(i).locator('input').check();
      await page.locator('#forget-samples').click();
      await expect
        .poll(() => msg(page), { timeout: 180_000, interval: 250 })
        .toMatch(/^forgot 6 samples|could not|failed|Error/);
      const m = (await msg(page)) ?? '';
      const [, version, after, was] = m.match(/version (\d+) gets (\d+)% of them right \(was (\d+)%\)/) ?? [];
      expect(m, m).toMatch(/your other samples stay$/);
      console.log(`app said: ${m}`); // the figures, for the record
      expect(Number(version)).toBe(2); // Learn saved version 1
      expect(Number(was)).toBeGreaterThan(50);
      // the shipped model, never taught them, reads them as `base`, not `wrong`: none right
      expect(Number(after)).toBeLessThanOrEqual(17);
      expect(await storedLabels(page)).toEqual([1, 1, 1]);
      await page.locator('button', { hasText: 'Clear' }).click();
      await draw(page);
      expect(await predicted(page)).not.toBe(wrong);
      const now = await probabilities(page);
      // far from the taught 100%: the unlearning's random labels and seed vary run to run (0.13 seen once in CI)
      expect(now[wrong]).toBeLessThan(Math.max(0.25, 4 * before[wrong]));
    } finally {
      await close();
    }
  }, 400_000);
});
