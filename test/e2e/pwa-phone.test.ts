// @module-tag behaviour
/**
 * The app on a phone (issue 16, items 6 and 7), in real Chromium at 390×844: the pad, the digit buttons, Learn and
 * the prediction are inside the first screen; every control is a tap target of at least 44 px; the tabs are an ARIA
 * tablist with panels and arrow keys; every canvas has an accessible name; dark mode follows
 * `prefers-color-scheme`; an offline badge shows while the network is off; Chromium's own install offer becomes an
 * Install button. Screenshots of the phone (light and dark) and the desktop land in `.tmp/screenshots/`.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { useBrowser } from './fixture.js';
import { draw, msg, openApp as open, predicted, ready, serveBuiltApp, shadowText, teach } from './app-page.js';

const env = useBrowser({ serve: serveBuiltApp });
const shots = fileURLToPath(new URL('../../.tmp/screenshots/', import.meta.url));
mkdirSync(shots, { recursive: true });

/** An app page at the phone's viewport, ready. */
async function onPhone(): Promise<{ page: Page; close: () => Promise<void> }> {
  const app = await open(env.server.url);
  await app.page.setViewportSize({ width: 390, height: 844 });
  return app;
}

/** The visible controls (buttons, selects, file inputs, the labels of checkboxes and radios) shorter than 44 px. */
const smallTargets = (page: Page) =>
  page.evaluate(() => {
    const root = document.querySelector('lh-app')!.shadowRoot!;
    const sel = 'button, select, input[type=file], .samples label, fieldset label';
    const controls = [...root.querySelectorAll<HTMLElement>(sel)];
    return controls
      .filter((c) => c.offsetParent !== null)
      .map((c) => ({
        what: c.id || c.textContent?.trim().slice(0, 30) || c.tagName,
        h: c.getBoundingClientRect().height,
      }))
      .filter((c) => c.h < 44);
  });

describe.sequential('the app on a phone', () => {
  it('fits the pad, the digits, Learn and the prediction in the first screen of 390×844', async () => {
    const { page, close } = await onPhone();
    try {
      await teach(page, 4); // Learn is enabled, and a sample is listed below
      await draw(page);
      await predicted(page);
      const inside = async (sel: string) => {
        const b = (await page.locator(sel).first().boundingBox())!;
        return b.y >= 0 && b.y + b.height <= 844 && b.x >= 0 && b.x + b.width <= 390;
      };
      for (const sel of [
        'lh-draw-pad canvas',
        'button.digit[data-digit="0"]',
        'button.digit[data-digit="9"]',
        '#learn',
      ])
        expect(await inside(sel), sel).toBe(true);
      expect(await inside('#prediction'), 'the prediction').toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${shots}phone-first-screen.png` });
    } finally {
      await close();
    }
  }, 120_000);

  it('makes every control in every tab a tap target of at least 44 px', async () => {
    const { page, close } = await onPhone();
    try {
      await teach(page, 4);
      await draw(page);
      await predicted(page);
      for (const tab of ['Teach', 'Predict & explain', 'My model', 'About']) {
        await page.locator('nav button', { hasText: tab }).click();
        expect(await smallTargets(page), tab).toEqual([]);
      }
    } finally {
      await close();
    }
  }, 120_000);

  it('has tabs with panels and arrow keys, and a name for every canvas', async () => {
    const { page, close } = await onPhone();
    try {
      const selected = () => shadowText(page, '[role=tab][aria-selected=true]');
      const panel = () =>
        page.evaluate(() => {
          const root = document.querySelector('lh-app')!.shadowRoot!;
          const p = root.querySelector('[role=tabpanel]')!;
          return root.getElementById(p.getAttribute('aria-labelledby')!)?.textContent;
        });
      await page.locator('[role=tab]', { hasText: 'Teach' }).focus();
      await page.keyboard.press('ArrowRight');
      expect(await selected()).toBe('Predict & explain');
      expect(await panel()).toBe('Predict & explain');
      await page.keyboard.press('End');
      expect(await selected()).toBe('About');
      await page.keyboard.press('ArrowRight'); // wraps around
      expect(await selected()).toBe('Teach');
      await page.keyboard.press('ArrowLeft');
      expect(await selected()).toBe('About');
      // the focus moved with the selection
      expect(await page.evaluate(() => document.querySelector('lh-app')!.shadowRoot!.activeElement?.textContent)).toBe(
        'About',
      );
      await draw(page);
      await predicted(page);
      await page.locator('[role=tab]', { hasText: 'Predict & explain' }).click();
      await page.locator('#explain').click();
      await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(/model calls/);
      const unnamed = await page.evaluate(() => {
        const canvases: Element[] = [];
        const walk = (root: Document | ShadowRoot) =>
          root.querySelectorAll('*').forEach((e) => {
            if (e.tagName === 'CANVAS' || e.tagName === 'svg') canvases.push(e);
            if (e.shadowRoot) walk(e.shadowRoot);
          });
        walk(document);
        return canvases
          .filter((c) => (c as HTMLElement).offsetParent !== null || c.tagName === 'svg')
          .filter((c) => !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
          .map((c) => c.outerHTML.slice(0, 80));
      });
      expect(unnamed).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('follows the dark colour scheme, shows an offline badge, and offers the install the browser offers', async () => {
    const { page, close } = await onPhone();
    try {
      // what the browser's install dialog answered, seen from the page
      await page.addInitScript(() =>
        addEventListener('beforeinstallprompt', (e) =>
          (e as Event & { userChoice: Promise<{ outcome: string }> }).userChoice.then((c) => {
            (window as unknown as { choice: string }).choice = c.outcome;
          }),
        ),
      );
      await page.reload();
      await ready(page);
      const background = () => page.evaluate(() => getComputedStyle(document.querySelector('lh-app')!).backgroundColor);
      const light = await background();
      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await background();
      expect(light).toBe('rgb(255, 255, 255)');
      expect(dark).toBe('rgb(13, 17, 23)');
      await draw(page);
      await predicted(page);
      await page.screenshot({ path: `${shots}phone-dark.png` });
      await page.emulateMedia({ colorScheme: 'light' });

      const badge = () => page.locator('.badge.offline').count();
      expect(await badge()).toBe(0);
      await page.context().setOffline(true);
      await expect.poll(badge).toBe(1);
      await page.context().setOffline(false);
      await expect.poll(badge).toBe(0);

      // Chromium judges the app installable (manifest, icons, a service worker that serves it offline) and offers
      // it (beforeinstallprompt): the app keeps the offer for its own Install button, which gives the browser's dialog
      await expect.poll(() => page.locator('#install').count(), { timeout: 30_000 }).toBe(1);
      await page.locator('#install').click();
      // the browser's dialog was shown and answered (headless Chromium dismisses it at once)
      await expect.poll(() => page.evaluate(() => (window as unknown as { choice?: string }).choice)).toBe('dismissed');
    } finally {
      await page.context().setOffline(false);
      await close();
    }
  }, 120_000);

  it('takes the screenshots of the desktop', async () => {
    const { page, close } = await open(env.server.url);
    try {
      await page.setViewportSize({ width: 1100, height: 760 });
      await draw(page);
      await predicted(page);
      await page.locator('[role=tab]', { hasText: 'Predict & explain' }).click();
      await page.locator('#explain').click();
      await expect.poll(() => msg(page), { timeout: 60_000 }).toMatch(/model calls/);
      await page.screenshot({ path: `${shots}desktop-explained.png`, fullPage: true });
    } finally {
      await close();
    }
  }, 120_000);
});
