// @module-tag behaviour
/**
 * The README's commands are true: every `npx layerhive …`, `node bin/layerhive.js …` and `npm run …` line in its
 * shell blocks names a command, suite and flags that exist, and the one command no other test runs, `serve` (what
 * `npm start` runs), serves the app with the headers the README promises.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
const bin = `${root}bin/layerhive.js`;

/** The lines of the README's ```sh blocks, continuation lines joined and comments dropped. */
const lines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1].replace(/\\\n\s*/g, ' ').split('\n'))
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);

const help = new Map<string, string>();
const helpOf = (args: string[], node: string[] = []) => {
  const key = args.join(' ');
  if (!help.has(key)) {
    help.set(
      key,
      execFileSync(process.execPath, [...node, ...args, '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 }),
    );
  }
  return help.get(key) ?? '';
};
const flags = (words: string[]) => words.filter((w) => /^--[a-z]/.test(w)).map((w) => w.replace(/=.*$/, ''));
/** `--flag` as a whole word of a help text (so `--versio` is not found in `--version`). */
const hasFlag = (text: string, flag: string) => new RegExp(`(^|[\\s,])${flag}(?![\\w-])`, 'm').test(text);

describe('the README', () => {
  const cli = lines.filter((l) => /^(npx layerhive|node bin\/layerhive\.js)\b/.test(l));
  const scripts = lines.filter((l) => /^npm (run|start|test|install|ci)\b/.test(l));

  it('shows commands (a guard against a parser that finds nothing)', () => {
    expect(cli.length).toBeGreaterThan(20);
    expect(scripts).toEqual(expect.arrayContaining(['npm install && npm start', 'npm test']));
  });

  it.each(cli)('%s: the command and its flags exist', (line) => {
    const words = line
      .replace(/^npx layerhive|^node bin\/layerhive\.js/, '')
      .trim()
      .split(/[\s[\]|]+/)
      .filter(Boolean);
    const command = words[0]?.startsWith('-') ? [] : [words[0]];
    const text = helpOf([bin, ...command]);
    expect(text).toMatch(/^Usage: layerhive/);
    for (const f of flags(words.slice(command.length))) expect(hasFlag(text, f), `${line}: ${f}`).toBe(true);
  });

  it.each(scripts)('%s: the scripts and benchmark suites exist', (line) => {
    for (const m of line.matchAll(/npm (?:run )?([\w:-]+)/g)) {
      if (!['install', 'ci', 'run'].includes(m[1])) expect(Object.keys(pkg.scripts), line).toContain(m[1]);
    }
    const bench = /^npm run bench -- (\w+)(.*)$/.exec(line);
    if (bench) {
      const text = helpOf(['bench/run.mjs'], ['--experimental-wasm-relaxed-simd']);
      expect(text).toContain(bench[1]);
      for (const f of flags(bench[2].split(/[\s[\]|]+/))) expect(hasFlag(text, f), `${line}: ${f}`).toBe(true);
    }
  });

  it(
    '`layerhive serve` (npm start) defaults to 127.0.0.1:8080 ' + 'and serves the app with COOP/COEP/CORP and the CSP',
    async () => {
      const text = helpOf([bin, 'serve']);
      expect(text).toMatch(/--port <n>[\s\S]*default: 8080/);
      expect(text).toMatch(/--host <name>[\s\S]*default: "127\.0\.0\.1"/);
      const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('`layerhive serve --port 0` printed no address within 30 s')),
            30_000,
          );
          let out = '';
          child.stdout.on('data', (d) => {
            out += d;
            const m = /layerhive app at (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(out);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]);
            }
          });
          child.once('exit', (code) => reject(new Error(`serve exited with ${code} before printing its address`)));
        });
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('<title>');
        expect(
          Object.fromEntries(
            ['cross-origin-opener-policy', 'cross-origin-embedder-policy', 'cross-origin-resource-policy'].map((h) => [
              h,
              res.headers.get(h),
            ]),
          ),
        ).toEqual({
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
          'cross-origin-resource-policy': 'same-origin',
        });
        expect(res.headers.get('content-security-policy')).toMatch(/connect-src 'self'/);
        expect((await fetch(new URL('sw.js', url))).status).toBe(200);
      } finally {
        child.kill();
      }
    },
  );
});
