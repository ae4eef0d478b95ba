import { chromium, type BrowserContext } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const profiles = fileURLToPath(new URL('../../.tmp/profiles/', import.meta.url));

/** Debian's Chromium through playwright-core, headless, with a fresh profile (never a downloaded browser). */
export async function launch(extraArgs: string[] = []): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  mkdirSync(profiles, { recursive: true });
  const dir = mkdtempSync(join(profiles, 'p-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', ...extraArgs],
  });
  return { context, close: async () => { await context.close(); rmSync(dir, { recursive: true, force: true }); } };
}
