/**
 * Page helpers for the app's e2e tests (dist/pwa in Chromium): a server for the built app, a fresh browser on it,
 * drawing on the pad with pointer strokes, and reading the page and its IndexedDB.
 */
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { serveApp } from '../../src/cli/serve.js';
import { launch } from './chromium.js';

const app = fileURLToPath(new URL('../../dist/pwa/', import.meta.url));

/** For useBrowser's `serve`: the built app, served as `npm start` serves it. */
export async function serveBuiltApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const s = await serveApp(app, { host: '127.0.0.1', port: 0 });
  return { url: s.url, close: () => new Promise<void>((r) => s.server.close(() => r())) };
}

export const shadowText = (page: Page, sel: string) =>
  page.evaluate((s) => document.querySelector('lh-app')?.shadowRoot?.querySelector(s)?.textContent ?? null, sel);
export const msg = (page: Page) => page.locator('.msg').textContent();

/** Waits until the app has loaded its model (its message starts with "ready"). */
export async function ready(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      /^ready|could not/.test(document.querySelector('lh-app')?.shadowRoot?.querySelector('.msg')?.textContent ?? ''),
    null,
    { timeout: 60_000 },
  );
  expect(await msg(page)).toMatch(/^ready/);
}

/** A fresh browser (empty profile, so empty IndexedDB) on the app at `url`, ready; `close` ends it. */
export async function openApp(url: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const b = await launch();
  const page = await b.context.newPage();
  await page.goto(url);
  await ready(page);
  return { page, close: b.close };
}

/** A "4"-ish figure, in pad pixels (280 × 280): one array of points per stroke. */
export const FOUR = [
  [
    [90, 50],
    [70, 150],
    [190, 150],
  ],
  [
    [170, 60],
    [170, 240],
  ],
];
/** A "1": one upright stroke. */
export const ONE = [
  [
    [140, 40],
    [135, 240],
  ],
];

/** Draws `strokes` on the pad with the mouse (shifted by `d` pad pixels). */
export async function draw(page: Page, d = 0, strokes = FOUR): Promise<void> {
  const pad = page.locator('lh-draw-pad canvas');
  await pad.scrollIntoViewIfNeeded(); // the mouse reaches only what is in the viewport
  const box = (await pad.boundingBox())!;
  const at = (x: number, y: number) =>
    [box.x + (box.width * (x + d)) / 280, box.y + (box.height * (y + d)) / 280] as const;
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0][0], stroke[0][1]));
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) await page.mouse.move(...at(x, y), { steps: 8 });
    await page.mouse.up();
  }
}

/** Waits until the page shows a prediction for what is on the pad; gives the digit it reads. */
export async function predicted(page: Page): Promise<number> {
  await page.waitForFunction(() => !!document.querySelector('lh-app')?.shadowRoot?.querySelector('#prediction'));
  return Number(await page.locator('#prediction').textContent());
}

/** The samples in the app's IndexedDB, in the order they were stored: label and pixels. */
export const storedSamples = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ label: number; pixels: number[] }[]>((resolve, reject) => {
        const open = indexedDB.open('layerhive-app-samples');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction('samples').objectStore('samples').getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            db.close();
            resolve(
              (all.result as { label: number; pixels: Uint8Array }[]).map((s) => ({
                label: s.label,
                pixels: Array.from(s.pixels),
              })),
            );
          };
        };
      }),
  );

/** The labels of the samples in the app's IndexedDB, in the order they were stored. */
export const storedLabels = async (page: Page) => (await storedSamples(page)).map((s) => s.label);

/** Draws `strokes` and teaches them as `label` with one click; waits until the page says the sample was kept. */
export async function teach(page: Page, label: number, d = 0, strokes = FOUR): Promise<void> {
  await page.locator('button', { hasText: 'Clear' }).click();
  await draw(page, d, strokes);
  await predicted(page);
  await page.locator(`button.digit[data-digit="${label}"]`).click();
  await expect.poll(() => msg(page), { timeout: 30_000 }).toMatch(new RegExp(`^kept as a ${label}`));
}

/** The drawing on the pad as the app feeds it to the model: its 28×28 MNIST pixels (row-major), or null. */
export const padPixels = (page: Page) =>
  page.evaluate(() => {
    const pad = document.querySelector('lh-app')?.shadowRoot?.querySelector('lh-draw-pad') as
      | (Element & { digit(): Uint8Array | null })
      | null;
    const d = pad?.digit();
    return d ? Array.from(d) : null;
  });

/**
 * Puts `page` on the app at `url`, served by its installed service worker, with the browser offline: installs the
 * worker online first when this profile has none yet (so a test that needs the offline app does not need an earlier
 * test). The service worker's responses must keep COOP/COEP for the page to stay crossOriginIsolated.
 */
export async function openOffline(page: Page, context: BrowserContext, url: string): Promise<void> {
  await context.setOffline(false);
  await page.goto(url);
  await ready(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await ready(page);
  }
  await context.setOffline(true);
  await page.reload(); // now served by the service worker
  await ready(page);
}

/**
 * Stores `count` samples (28×28 pixels each, from `images` and `labels`) in the app's IndexedDB through the app's own
 * sample store, as a folder import does, and lets the page count them (Learn's button then offers them).
 */
export async function putSamples(page: Page, images: Uint8Array, labels: Uint8Array): Promise<void> {
  await page.evaluate(
    async ({ pixels, labels }) => {
      const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0));
      const app = document.querySelector('lh-app') as Element & {
        model: { addSamples(s: { pixels: Uint8Array; label: number }[]): Promise<number[]> };
        modelChanged(): Promise<void>;
      };
      await app.model.addSamples(labels.map((label, i) => ({ pixels: bytes.slice(i * 784, (i + 1) * 784), label })));
      await app.modelChanged();
    },
    { pixels: Buffer.from(images).toString('base64'), labels: Array.from(labels) },
  );
}

/** The saved versions of the app's model (its IndexedDB), each with a digest of its weights: name → [sum, sum |w|]. */
export const savedVersions = (page: Page) =>
  page.evaluate(async () => {
    type Loaded = { groups: Record<string, { tensors: Record<string, { data: Float32Array }> }> };
    const app = document.querySelector('lh-app') as Element & {
      model: {
        versions(): Promise<{ version: number; createdAt: string; bytes: number; meta: Record<string, unknown> }[]>;
        store: { load(name: string, o: { version: number }): Promise<Loaded> };
      };
    };
    const out = [];
    for (const v of await app.model.versions()) {
      const ck = await app.model.store.load('my-digits', { version: v.version });
      const digest: Record<string, [number, number]> = {};
      for (const [g, s] of Object.entries(ck.groups))
        for (const [k, t] of Object.entries(s.tensors)) {
          let sum = 0,
            abs = 0;
          for (const x of t.data) {
            sum += x;
            abs += Math.abs(x);
          }
          digest[`${g}/${k}`] = [sum, abs];
        }
      out.push({ ...v, digest });
    }
    return out;
  });
