/**
 * The shared e2e lifecycle: a server and a Chromium for the tests that call `useBrowser`, and the page helpers.
 */
import { afterAll, beforeAll } from 'vitest';
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { serveRepo } from './server.js';
import { launch, newProfile } from './chromium.js';

type Browser = Awaited<ReturnType<typeof launch>>;
type Server = { url: string; close: () => Promise<void>; requests?: string[] };

export interface BrowserEnv<S extends Server> {
  server: S;
  browser: Browser;
  /** Closes the browser and launches it again (the same profile when `profile` was asked for). */
  restart(): Promise<void>;
  /** A new page on `path` (under the server unless a URL) once it sets `window.ready`; `errors` gets its pageerrors. */
  open(path: string): Promise<{ page: Page; errors: string[] }>;
}

/**
 * Registers beforeAll/afterAll that start a server (serveRepo unless `serve`) and a browser with `args`; `profile`
 * keeps one profile across `restart` (removed after all); `onLaunch` runs on every launched browser.
 */
export function useBrowser<S extends Server = Awaited<ReturnType<typeof serveRepo>>>(
  o: { args?: string[]; profile?: boolean; serve?: () => Promise<S>; onLaunch?: (b: Browser) => void } = {},
): BrowserEnv<S> {
  const profile = o.profile ? newProfile() : undefined;
  const start = async () => {
    env.browser = await launch(o.args, { profile });
    o.onLaunch?.(env.browser);
  };
  const env: BrowserEnv<S> = {
    server: undefined as unknown as S,
    browser: undefined as unknown as Browser,
    restart: async () => {
      await env.browser.close();
      await start();
    },
    open: async (path) => {
      const page = await env.browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(/^https?:/.test(path) ? path : `${env.server.url}${path}`);
      await waitReady(page);
      return { page, errors };
    },
  };
  beforeAll(async () => {
    env.server = await (o.serve?.() ?? (serveRepo() as Promise<unknown> as Promise<S>));
    await start();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });
  return env;
}

/** Waits for the page's `window.ready`. */
export const waitReady = (page: Page) =>
  page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);

/** Calls the page's `window.run(arg)`. */
export const run = <T>(page: Page, arg?: unknown) =>
  page.evaluate((a) => (window as unknown as { run: (a: unknown) => Promise<unknown> }).run(a), arg) as Promise<T>;

/**
 * The backend flavour this browser's own WebGPU adapter gives, derived as WebGpuBackend.create derives it ('webgpu',
 * or 'webgpu-fallback' for a software adapter such as SwiftShader); 'no adapter' when there is none.
 */
export const adapterFlavour = (page: Page) =>
  page.evaluate(async () => {
    const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
    if (!adapter) return 'no adapter';
    return (adapter.info.isFallbackAdapter ?? false) ? 'webgpu-fallback' : 'webgpu';
  });
