/** The browser the tests drive: `CHROME_PATH`, else the first usual install path that exists; null when none. */
export function findChromium(env?: NodeJS.ProcessEnv): string | null;
