// @module-tag behaviour
/**
 * The IndexedDB CheckpointStore in real Chromium (real IndexedDB, not a fake): the first save asks for persistent
 * storage once (later saves do not ask again); a checkpoint survives a reload
 * and a browser restart with the same profile; an aborted save, a Web Worker killed mid-save and a page closed
 * mid-save each leave the previous version; a corrupted record is caught by name and fallback recovers; a save
 * that the origin's estimate says will not fit is refused before any write; a save over the origin's quota (set
 * through the DevTools protocol) is a typed error with the sizes and keeps the previous version.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { serveRepo } from './server.js';
import { useBrowser, waitReady } from './fixture.js';

type Api = Record<string, (...a: unknown[]) => Promise<Record<string, unknown>>>;
const env = useBrowser({ profile: true });
const open = async (base = env.server.url) => (await env.open(`${base}/test/e2e/pages/store.html`)).page;
const call = (page: Page, fn: string, ...args: unknown[]) =>
  page.evaluate(({ fn, args }) => (window as unknown as { api: Api }).api[fn](...args), { fn, args }) as Promise<
    Record<string, unknown> & { error?: string; code?: string }
  >;

describe('IndexedDB checkpoints in Chromium', () => {
  let saved: { hash: string; version: number };

  it('a saved checkpoint loads back identical after a reload and after a browser restart (same profile)', async () => {
    let page = await open();
    expect(await call(page, 'persistCalls')).toEqual([]); // the store has not asked for persistence yet
    saved = (await call(page, 'save', 'model', 1)) as typeof saved;
    expect(saved).toMatchObject({ version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // the first save asked navigator.storage.persist() exactly once, and the store reports the browser's answer
    const asked = (await call(page, 'persistCalls')) as unknown as boolean[];
    expect(asked).toEqual([expect.any(Boolean)]);
    expect(await call(page, 'persisted')).toEqual({ persisted: asked[0] });
    // a later save (another checkpoint, so 'model' keeps one version) does not ask again
    expect(await call(page, 'save', 'other', 2)).toMatchObject({ version: 1 });
    expect(await call(page, 'persistCalls')).toEqual(asked);
    await page.reload();
    await waitReady(page);
    expect(await call(page, 'load', 'model')).toMatchObject({ version: 1, seed: 1, hash: saved.hash });
    await env.restart();
    page = await open();
    expect(await call(page, 'load', 'model')).toMatchObject({ version: 1, seed: 1, hash: saved.hash });
    await page.close();
  }, 120_000);

  it('an aborted save, a worker killed mid-save and a page closed mid-save all leave version 1', async () => {
    const page = await open();
    expect(await call(page, 'saveAborted', 'model', 2)).toMatchObject({ code: 'ABORTED' });
    expect(await call(page, 'killWorkerMidSave', 'model', 3)).toEqual({ mid: 'mid' });
    expect(await call(page, 'list', 'model')).toEqual([1]);

    // a page closed inside a save: the hook holds the transaction open until the page is gone (the close ends the
    // loop; the bound only stops a runaway renderer if it did not), and the test waits on events, not on time: the
    // hook's 'mid-save' console message, then the close, which rejects the pending call (the save never returned)
    const doomed = await open();
    const mid = doomed.waitForEvent('console', (m) => m.text() === 'mid-save');
    const untilClosed = 10 * 60_000;
    const outcome = call(doomed, 'saveBlocking', 'model', 4, untilClosed).then(
      (r) => ({ returned: r }),
      () => 'closed mid-save',
    );
    await mid;
    await doomed.close();
    expect(await outcome).toBe('closed mid-save');
    expect(await call(page, 'list', 'model')).toEqual([1]);
    expect(await call(page, 'load', 'model')).toMatchObject({ version: 1, hash: saved.hash });
    // and the store still takes a save after all that
    expect(await call(page, 'save', 'model', 5)).toMatchObject({ version: 2 });
    await page.close();
  }, 120_000);

  it('a corrupted record is a CHECKSUM_MISMATCH naming the tensor; fallback loads the previous version', async () => {
    const page = await open();
    const { key } = (await call(page, 'corrupt', 'model', 2, 3)) as { key: string };
    const bad = await call(page, 'load', 'model');
    expect(bad.code).toBe('CHECKSUM_MISMATCH');
    expect(bad.error).toContain(`'model' version 2: tensor '${key}' fails its SHA-256 check`);
    const ok = await call(page, 'load', 'model', { fallback: true });
    expect(ok).toMatchObject({ version: 1, hash: saved.hash, skipped: [{ version: 2 }] });
    await page.close();
  }, 60_000);

  it('a save that navigator.storage.estimate() says will not fit is refused before anything is written', async () => {
    const page = await open();
    const first = (await call(page, 'save', 'pre', 3)) as { hash: string; bytes: number };
    expect(first).toMatchObject({ version: 1 });
    // the origin reports 9 MiB used of 10 MiB: the 2.6 MiB checkpoint cannot fit, so the store must not open a
    // transaction (a write the browser would refuse midway, or worse accept past the estimate)
    await page.evaluate(() => {
      navigator.storage.estimate = async () => ({ usage: 9 * 2 ** 20, quota: 10 * 2 ** 20 });
    });
    const r = await call(page, 'save', 'pre', 4);
    expect(r.code).toBe('QUOTA_EXCEEDED');
    expect(r.error).toBe(
      `checkpoint 'pre' needs ${(first.bytes / 2 ** 20).toFixed(1)} MiB but this origin uses 9.0 MiB of its 10.0 MiB ` +
        'quota — delete old versions or other data (or call requestPersistence()); the previous version is unchanged',
    );
    expect(await call(page, 'list', 'pre')).toEqual([1]);
    expect(await call(page, 'load', 'pre')).toMatchObject({ version: 1, hash: first.hash });
    // 10 MiB free: the same save goes through
    await page.evaluate(() => {
      navigator.storage.estimate = async () => ({ usage: 0, quota: 10 * 2 ** 20 });
    });
    expect(await call(page, 'save', 'pre', 4)).toMatchObject({ version: 2 });
    await page.close();
  }, 60_000);

  it('a save over the origin quota is QUOTA_EXCEEDED with the sizes, and the previous version stays', async () => {
    const fresh = await serveRepo(); // a new port is a new origin with its own, empty storage
    try {
      const page = await open(fresh.url);
      // the quota manager enforces an override on writes to storage opened after it (navigator.storage.estimate()
      // does not report it): 4 MiB hold one version (2.6 MiB) but not two
      const cdp = await env.browser.context.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: fresh.url, quotaSize: 4 * 2 ** 20 });
      const first = (await call(page, 'save', 'q', 7)) as { hash: string };
      expect(first).toMatchObject({ version: 1 });
      const r = await call(page, 'save', 'q', 8);
      expect(r.code).toBe('QUOTA_EXCEEDED');
      const refused = new RegExp(
        String.raw`the browser refused 2\.6 MiB for checkpoint 'q' \(quota exceeded; ` +
          String.raw`this origin uses [\d.]+ MiB of [\d.]+ MiB by navigator\.storage\.estimate\(\)\)`,
      );
      expect(r.error).toMatch(refused);
      expect(await call(page, 'list', 'q')).toEqual([1]);
      expect(await call(page, 'load', 'q')).toMatchObject({ version: 1, hash: first.hash });
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: fresh.url });
      await page.close();
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
