// @module-tag behaviour
/**
 * Learn's three modes in the app (issue 16, item 5), in real Chromium: the last layer of the shipped CNN by tpSGD,
 * every layer of it by tpSGD (a forward pipeline over the two workers), and NoProp-DT on the NoProp model shipped
 * beside it (its blocks on both workers at once). For each: the taught drawing moves toward its label, the saved
 * version records its mode, the trade-offs table shows what this Learn measured, and the About tab shows where the
 * layers or blocks ran and the bytes that moved between the workers. And deleting samples: the next Learn of the
 * NoProp model starts from its shipped base. Each test has a fresh browser profile.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from './fixture.js';
import { FOUR, draw, msg, openApp, predicted, serveBuiltApp, teach } from './app-page.js';

const env = useBrowser({ serve: serveBuiltApp });

type Mode = 'last-layer' | 'tpsgd-all' | 'noprop';

/** The class probabilities the page holds for the drawing on the pad (after it shows a prediction). */
async function probs(page: Page): Promise<number[]> {
  await predicted(page);
  return page.evaluate(() =>
    Array.from((document.querySelector('lh-app') as unknown as { probs: Float64Array }).probs),
  );
}

/** Chooses how Learn learns, and waits until the page says the mode is in use. */
async function chooseMode(page: Page, mode: Mode): Promise<void> {
  await page.locator('nav button', { hasText: 'Teach' }).click();
  await page.locator('#learn-mode').selectOption(mode);
  await expect.poll(() => msg(page), { timeout: 60_000, interval: 200 }).toMatch(/^Learn now uses/);
}

async function learn(page: Page): Promise<string> {
  await page.locator('#learn').click();
  await expect.poll(() => msg(page), { timeout: 180_000, interval: 250 }).toMatch(/^learned|failed/);
  return (await msg(page))!;
}

/** The meta of the newest saved version, read through the app's model. */
const newestMeta = (page: Page) =>
  page.evaluate(async () => {
    const app = document.querySelector('lh-app') as unknown as {
      model: { versions(): Promise<{ meta: Record<string, unknown> }[]> };
    };
    return (await app.model.versions()).at(-1)?.meta ?? null;
  });

describe('Learn modes', () => {
  for (const mode of ['last-layer', 'tpsgd-all', 'noprop'] as const)
    it(`${mode}: the drawing moves toward its label; version, trade-offs and About say how it learned`, async () => {
      const { page, close } = await openApp(env.server.url);
      try {
        await chooseMode(page, mode);
        expect(await page.locator(`table.modes tr[data-mode="${mode}"]`).textContent()).toContain('not tried yet');
        await draw(page, 0, FOUR);
        const before = await probs(page);
        const taught = (before.indexOf(Math.max(...before)) + 5) % 10;
        for (const d of [-4, 0, 4, 2]) await teach(page, taught, d, FOUR); // the second is kept aside
        expect(await learn(page)).toMatch(/^learned: \d+% on your 1 digit kept aside .*saved as version 1$/);
        // the version records how it was learned
        expect(await newestMeta(page)).toMatchObject({
          mode,
          family: mode === 'noprop' ? 'noprop' : 'cnn',
          rule: mode === 'noprop' ? 'noprop-dt' : 'tpsgd',
        });
        // predictions now come from the learned model of this mode: the taught drawing moved toward its label
        await page.locator('button', { hasText: 'Clear' }).click();
        await draw(page, 0, FOUR);
        const after = await probs(page);
        expect(after[taught]).toBeGreaterThan(before[taught] + 0.2);
        // the trade-offs table: this mode's time and accuracies as measured now; the others not tried yet
        const cells = await page.locator(`table.modes tr[data-mode="${mode}"] td`).allTextContents();
        expect(cells[0]).toContain('(chosen)');
        expect(cells.slice(1)).toEqual([
          expect.stringMatching(/^\d+\.\d s$/),
          expect.stringMatching(/^(0|100)%$/), // one digit kept aside
          expect.stringMatching(/^\d+%$/),
        ]);
        const mnist = Number.parseInt(cells[3], 10);
        expect(mnist).toBeGreaterThanOrEqual(50); // it did not wreck the base model
        for (const other of ['last-layer', 'tpsgd-all', 'noprop'].filter((m) => m !== mode))
          expect(await page.locator(`table.modes tr[data-mode="${other}"]`).textContent()).toContain('not tried yet');
        // the About tab: where the layers/blocks ran and the bytes between the workers
        await page.locator('nav button', { hasText: 'About' }).click();
        const plan = (await page.locator('pre.learn-plan').textContent())!;
        expect(plan).toMatch(/worker 0: /);
        expect(plan).toMatch(/worker 1: /);
        const stage = (await page.locator('.stage-bytes').textContent())!;
        if (mode === 'noprop') {
          expect(plan).toMatch(/^noprop-dt: independent over 2 worker/);
          // blocks on both workers, each worker's own
          const rows = plan.split('\n').filter((l) => /worker \d: /.test(l));
          expect(rows).toHaveLength(2);
          for (const r of rows) expect(r).toMatch(/block/);
          expect(stage).toBe('0 B');
          expect(await page.locator('.bytes-why').textContent()).toMatch(/nothing moves between the workers/);
        } else {
          expect(plan).toMatch(/^tpsgd: pipeline over 2 worker/);
          expect(stage).not.toBe('0 B');
          expect(Number.parseFloat((await page.locator('.stage-bytes-per-sample').textContent())!)).toBeGreaterThan(0);
        }
        // the figures survive a reload
        await page.reload();
        await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(/^ready/);
        await page.locator('nav button', { hasText: 'Teach' }).click();
        expect(await page.locator('#learn-mode').inputValue()).toBe(mode);
        expect(await page.locator(`table.modes tr[data-mode="${mode}"] td`).allTextContents()).toEqual(cells);
      } finally {
        await close();
      }
    }, 300_000);

  it('a version learned in another mode, rolled back to, brings its mode back', async () => {
    const { page, close } = await openApp(env.server.url);
    try {
      await chooseMode(page, 'noprop');
      await teach(page, 3, 0, FOUR);
      await teach(page, 3, 4, FOUR);
      expect(await learn(page)).toMatch(/^learned/);
      await chooseMode(page, 'last-layer');
      // the CNN is back (nothing learned in its modes yet: the shipped one)
      expect(await msg(page)).toMatch(/base model \(backprop CNN/);
      expect(await learn(page)).toMatch(/saved as version 2$/);
      await page.locator('nav button', { hasText: 'My model' }).click();
      await page
        .locator('table tr')
        .filter({ has: page.locator('td:first-child', { hasText: /^1$/ }) })
        .locator('button', { hasText: 'Use this' })
        .click();
      await expect.poll(() => msg(page), { timeout: 60_000 }).toBe('back to version 1');
      expect(await newestMeta(page)).toMatchObject({ mode: 'noprop' });
      await page.locator('nav button', { hasText: 'Teach' }).click();
      expect(await page.locator('#learn-mode').inputValue()).toBe('noprop');
      await page.locator('nav button', { hasText: 'About' }).click();
      expect(await page.locator('pre.plan').textContent()).toMatch(/^noprop-dt: independent/);
    } finally {
      await close();
    }
  }, 300_000);

  it('after samples are deleted, the next NoProp Learn starts from the shipped NoProp model', async () => {
    const { page, close } = await openApp(env.server.url);
    try {
      await chooseMode(page, 'noprop');
      await draw(page, 0, FOUR);
      const base = await probs(page);
      const taught = (base.indexOf(Math.max(...base)) + 5) % 10;
      for (const d of [-4, 0, 4, 2]) await teach(page, taught, d, FOUR);
      expect(await learn(page)).toMatch(/^learned/);
      await page.locator('button', { hasText: 'Clear' }).click();
      await draw(page, 0, FOUR);
      const learned = await probs(page);
      expect(learned[taught]).toBeGreaterThan(base[taught]);
      // delete the first sample, then a Learn of no epochs: what it starts from is what it saves
      const again = await page.evaluate(async () => {
        const app = document.querySelector('lh-app') as unknown as {
          model: {
            samples: { all(): Promise<{ id: number }[]> };
            forgetSamples(ids: number[]): Promise<boolean>;
            learn(on: () => void, o: { epochs: number }): Promise<unknown>;
          };
          modelChanged(): Promise<void>;
        };
        const [first] = await app.model.samples.all();
        const again = await app.model.forgetSamples([first.id]);
        await app.model.learn(() => undefined, { epochs: 0 });
        await app.modelChanged();
        return again;
      });
      expect(again).toBe(true);
      expect(await newestMeta(page)).toMatchObject({ mode: 'noprop', fromOrigin: true });
      await page.locator('button', { hasText: 'Clear' }).click();
      await draw(page, 0, FOUR);
      const now = await probs(page);
      // the shipped NoProp model's probabilities, not the learned ones
      for (let k = 0; k < 10; k++) expect(now[k]).toBeCloseTo(base[k], 4);
    } finally {
      await close();
    }
  }, 300_000);
});
