import { chromium, type BrowserContext } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium } from '../../tools/find-chromium.mjs';

const profiles = fileURLToPath(new URL('../../.tmp/profiles/', import.meta.url));

/** A new empty profile folder (for `launch(…, { profile })` across browser restarts); remove it when done. */
export function newProfile(): string {
  mkdirSync(profiles, { recursive: true });
  return mkdtempSync(join(profiles, 'p-'));
}

function chromiumPath(): string {
  const path = findChromium();
  if (!path) throw new Error('no Chromium found: `npm test` installs one (pretest), or set CHROME_PATH');
  return path;
}

/**
 * Debian's Chromium through playwright-core, headless (never a downloaded browser), with a fresh profile that
 * `close` removes — or with `profile`, which is kept, so a second launch is the same browser restarted.
 */
export async function launch(
  extraArgs: string[] = [],
  o: { profile?: string } = {},
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = o.profile ?? newProfile();
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      ...extraArgs,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      if (!o.profile) rmSync(dir, { recursive: true, force: true });
    },
  };
}
