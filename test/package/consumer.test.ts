// @module-tag behaviour
/**
 * layerhive as a dependency, as our users meet it: `npm pack`, the tarball installed into a fresh project (from the
 * npm cache), then in that project Node ESM imports, a strict type check against the shipped .d.ts, the CLI through
 * npx, and a page bundled by Vite whose wasm kernels and stage workers load from the package in real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../e2e/chromium.js';
import { serveRepo } from '../e2e/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./consumer/', import.meta.url));
const work = join(root, '.tmp', 'consumer');

/** The environment without npm's own variables: the parent `npm test` must not configure the child's npm. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/** Runs a command in the consumer project; a command that outlives `timeoutS` is an error that names it. */
function sh(cmd: string, args: string[], timeoutS: number, cwd = work): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: 'pipe', timeout: timeoutS * 1000 });
  } catch (e) {
    const err = e as { signal?: string; stderr?: string; stdout?: string; message: string };
    const line = `${cmd} ${args.join(' ')}`;
    if (err.signal) throw new Error(`\`${line}\` did not finish within ${timeoutS} s (killed with ${err.signal})`);
    throw new Error(`\`${line}\` failed: ${err.stderr || err.stdout || err.message}`);
  }
}

const version = (pkg: string) =>
  JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}
let packed: Packed;

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // dist/ was built by pretest; --ignore-scripts keeps prepack from building it again
  packed = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], 120, root))[0];
  for (const f of ['consumer.ts', 'tsconfig.json', 'index.html', 'main.js'])
    copyFileSync(join(fixtures, f), join(work, f));
  const manifest = {
    name: 'layerhive-consumer',
    private: true,
    type: 'module',
    dependencies: { layerhive: `file:./${packed.filename}` },
    devDependencies: {
      typescript: version('typescript'),
      vite: version('vite'),
      '@types/node': version('@types/node'),
    },
  };
  writeFileSync(join(work, 'package.json'), JSON.stringify(manifest, null, 2));
  sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], 600);
}, 700_000);

describe('the npm package', () => {
  it('ships the library, its types, both stage workers and the CLI, and not the app, sources or tests', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of [
      'package.json',
      'README.md',
      'bin/layerhive.js',
      'dist/index.js',
      'dist/node.js',
      'dist/cli.js',
      'dist/stage.worker.js',
      'dist/browser/stage.worker.js',
      'dist/types/src/index.d.ts',
      'dist/types/src/node.d.ts',
    ]) {
      expect(paths, p).toContain(p);
    }
    const outside = paths.filter((p) => !/^(package\.json|README\.md|bin\/layerhive\.js|dist\/(?!pwa\/).+)$/.test(p));
    expect(outside).toEqual([]);
    expect(paths.filter((p) => p.startsWith('dist/types/src/cli/'))).toEqual([]);
    console.log(
      `npm pack: ${packed.files.length} files, ${(packed.size / 1e6).toFixed(2)} MB packed, ` +
        `${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked`,
    );
  });

  it('a strict TypeScript project type-checks against the shipped .d.ts, then trains, saves, ' +
    'reloads and uses workers', () => {
    sh(join(work, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], 120);
    const out = JSON.parse(sh(process.execPath, ['out/consumer.js'], 300).trim().split('\n').at(-1) ?? '');
    expect(out.backend).toMatch(/^wasm-/); // plain Node 20: relaxed SIMD only behind a flag
    expect(out.accuracy).toBeGreaterThan(0.8); // 0.83 measured (tpSGD MLP, 1 024 images, 1 epoch; deterministic)
    expect(out).toMatchObject({ version: 1, samePredictions: true, workerResolved: true });
    expect(out.workers).toEqual([out.backend, out.backend]);
  }, 400_000);

  it('npx layerhive info and train work from the installed package', () => {
    const info = JSON.parse(sh('npx', ['--no-install', 'layerhive', 'info', '--json'], 60));
    expect(info.backends.find((b: { name: string }) => b.name === 'wasm')).toMatchObject({ available: true });
    const out = sh('npx', ['--no-install', 'layerhive', 'train', '--limit', '500', '--no-progress'], 300);
    expect(out).toMatch(/epoch 1: train loss [\d.]+, test accuracy [\d.]+%/);
  }, 400_000);
});

describe('a page bundled by Vite', () => {
  let server: Awaited<ReturnType<typeof serveRepo>>;
  let browser: Awaited<ReturnType<typeof launch>>;
  beforeAll(async () => {
    sh(join(work, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], 180);
    server = await serveRepo(join(work, 'dist'));
    browser = await launch();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the wasm kernels in the page and trains on two stage workers loaded from the bundle', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const result = (await page.evaluate(() => (window as unknown as { run: () => Promise<unknown> }).run())) as {
      error?: string;
      backend: string;
      workerUrl: string;
      workers: string[];
      accuracy: number;
    };
    expect(result.error, result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.backend).toBe('wasm-relaxed'); // Chromium validates relaxed SIMD; no WebGPU without the flag
    expect(result.workers).toEqual(['wasm-relaxed', 'wasm-relaxed']);
    expect(result.workerUrl).toMatch(/^\/assets\/stage\.worker-[\w-]+\.js$/);
    expect(server.requests).toContain(result.workerUrl);
    console.log(`Vite page: tpSGD on two Web Workers, test accuracy ${result.accuracy}`);
    expect(result.accuracy).toBeGreaterThan(0.97); // 1.0 measured (the squares are easy; seeds fixed)
    await page.close();
  }, 240_000);
});
