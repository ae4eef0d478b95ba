import { existsSync } from 'node:fs';

/** Where a Chromium or Chrome usually is: Debian/Ubuntu packages, Google's packages, snap, macOS. */
const usual = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/**
 * The browser the tests drive: `CHROME_PATH` when set (it must exist), else the first usual path that exists;
 * null when there is none. Never a downloaded browser build.
 */
export function findChromium(env = process.env) {
  const named = env.CHROME_PATH;
  if (named) {
    if (!existsSync(named)) throw new Error(`CHROME_PATH is ${named}, which does not exist`);
    return named;
  }
  return usual.find((p) => existsSync(p)) ?? null;
}
