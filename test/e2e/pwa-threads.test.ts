// @module-tag behaviour
/**
 * The app's threads in real Chromium (dist/pwa, served as `npm start` serves it): the page is crossOriginIsolated, so
 * its own wasm backend (predictions run on it) splits each kernel call over one thread per core ('auto', at most 4),
 * and the About tab says so in one line; a drawn digit is still read, and a Learn still moves it toward its taught
 * label, with the plan the About tab showed before it being the plan it ran; a reload offline (the service worker
 * answers) is crossOriginIsolated and threaded still; and no request ever leaves the origin.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from './fixture.js';
import { FOUR, draw, msg, openOffline, predicted, ready, serveBuiltApp, teach } from './app-page.js';

const requests: string[] = [];
const env = useBrowser({
  profile: true, // the offline test reloads from the service worker the first test installed
  serve: serveBuiltApp,
  onLaunch: (b) => b.context.on('request', (r) => requests.push(r.url())),
});

interface PageThreads {
  isolated: boolean;
  cores: number;
  /** The capabilities() of the app's own (main-thread) wasm backend. */
  caps: Record<string, string | number | boolean>;
}
/** What the page says of its isolation and cores, and what its own wasm backend says of its threads. */
const pageThreads = (page: Page) =>
  page.evaluate(() => {
    const app = document.querySelector('lh-app') as unknown as {
      model: { backend: { capabilities(): Record<string, string | number | boolean> } };
    };
    return {
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
      caps: app.model.backend.capabilities(),
    } satisfies PageThreads;
  });

/** The threads the page's backend must use on `cores` cores ('auto': one per core, at most 4), and the About line. */
function expectThreaded(t: PageThreads): RegExp {
  expect(t.isolated).toBe(true);
  expect(t.caps.threads).toBe(true); // shared WebAssembly memory
  if (t.cores >= 2) {
    expect(t.caps.threadsInUse).toBe(Math.min(4, t.cores));
    expect(t.caps.threadsInUse).toBeGreaterThanOrEqual(2);
    expect(t.caps.threadsNote).toBeUndefined();
    return new RegExp(
      `^Threads: ${t.caps.threadsInUse} per kernel call on this page \\(crossOriginIsolated, ${t.cores} cores\\)$`,
    );
  }
  // one core: 'auto' asks for one thread, so nothing falls short and there is no note
  expect(t.caps.threadsInUse).toBe(1);
  return /^Threads: one/;
}

/** The class probabilities the page holds for the drawing on the pad (after it shows a prediction). */
async function probs(page: Page): Promise<number[]> {
  await predicted(page);
  return page.evaluate(() =>
    Array.from((document.querySelector('lh-app') as unknown as { probs: Float64Array }).probs),
  );
}

const about = async (page: Page) => {
  await page.locator('nav button', { hasText: 'About' }).click();
  return page.locator('p.threads').textContent();
};

describe.sequential('the app uses threads', () => {
  it('is crossOriginIsolated; its own wasm backend runs kernels over threads, and the About tab says so', async () => {
    const page = await env.browser.context.newPage();
    await page.goto(env.server.url);
    await ready(page);
    const t = await pageThreads(page);
    const line = expectThreaded(t);
    const said = await about(page);
    expect(said).toMatch(line);
    // the stage workers start on one thread each (a Learn's plan may give a stage more)
    expect(await page.locator('.worker-threads').allTextContents()).toEqual([' (1 thread)', ' (1 thread)']);
    await page.close();
  }, 120_000);

  it('reads a drawn digit, and a Learn moves it toward its label, on the plan the About tab showed', async () => {
    const page = await env.browser.context.newPage();
    await page.goto(env.server.url);
    await ready(page);
    await draw(page, 0, FOUR);
    const before = await probs(page);
    expect(before.every((p) => Number.isFinite(p) && p >= 0)).toBe(true);
    expect(before.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(await predicted(page)).toBe(before.indexOf(Math.max(...before)));
    // the plan the About tab shows, from costs measured as the stage workers run (1 and 2 threads)
    await page.locator('nav button', { hasText: 'About' }).click();
    const shown = (await page.locator('pre.plan').textContent())!;
    expect(shown).toMatch(/^tpsgd: pipeline over [12] worker/);
    const taught = (before.indexOf(Math.max(...before)) + 5) % 10;
    await page.locator('nav button', { hasText: 'Teach' }).click();
    for (const d of [-4, 0, 4, 2]) await teach(page, taught, d, FOUR); // the second is kept aside
    await page.locator('#learn').click();
    await expect.poll(() => msg(page), { timeout: 180_000, interval: 250 }).toMatch(/^learned|failed/);
    const learned = (await msg(page))!;
    expect(learned).toMatch(/^learned: \d+% on your 1 digit kept aside .*saved as version 1$/);
    // it did not wreck the base model
    expect(Number(/(\d+)% on 300 MNIST digits/.exec(learned)?.[1])).toBeGreaterThanOrEqual(50);
    await page.locator('button', { hasText: 'Clear' }).click();
    await draw(page, 0, FOUR);
    const after = await probs(page);
    expect(after.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(after[taught]).toBeGreaterThan(before[taught] + 0.2);
    // the plan Learn ran is the plan shown before it; each of its workers lists its threads
    await page.locator('nav button', { hasText: 'About' }).click();
    const ran = (await page.locator('pre.learn-plan').textContent())!;
    expect(ran).toBe(shown);
    const stages = ran.split('\n').filter((l) => /worker \d: /.test(l));
    expect(await page.locator('.worker-threads').count()).toBe(stages.length);
    expect(await about(page)).toMatch(expectThreaded(await pageThreads(page)));
    await page.close();
  }, 300_000);

  it('reloads offline from its service worker still crossOriginIsolated and threaded, and reads a digit', async () => {
    const page = await env.browser.context.newPage();
    try {
      await openOffline(page, env.browser.context, env.server.url);
      expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
      const line = expectThreaded(await pageThreads(page));
      expect(await about(page)).toMatch(line);
      await page.locator('nav button', { hasText: 'Teach' }).click();
      await draw(page, 0, FOUR);
      const p = await probs(page);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    } finally {
      await env.browser.context.setOffline(false);
      await page.close();
    }
  }, 120_000);

  it('made no request to another origin', () => {
    const origin = env.server.url.replace(/\/$/, '');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual(
      [],
    );
  });
});
