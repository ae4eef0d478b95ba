// @module-tag behaviour
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';

// README: "It is an installable PWA (manifest, icons)". These are the manifest fields Chromium's installability
// check needs (a name, a start URL, a standalone-like display, PNG icons of 192 and 512 px), checked in the source
// manifest and in the built app (dist/pwa, written by `npm run build`), whose icon files must be PNGs of the sizes
// the manifest declares.

const { PNG } = pngjs;
const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

interface ManifestIcon {
  src: string;
  sizes: string;
  type?: string;
  purpose?: string;
}
interface Manifest {
  name?: string;
  short_name?: string;
  start_url?: string;
  scope?: string;
  display?: string;
  icons?: ManifestIcon[];
}

const readManifest = (path: string): Manifest => JSON.parse(readFileSync(root(path), 'utf8')) as Manifest;
const source = readManifest('pwa/manifest.webmanifest');
const built = readManifest('dist/pwa/manifest.webmanifest');

/** The [width, height] pairs an icon's `sizes` declares ("192x192", or several separated by spaces). */
const declaredSizes = (icon: ManifestIcon): [number, number][] =>
  icon.sizes
    .trim()
    .split(/\s+/)
    .map((s) => {
      const m = /^(\d+)x(\d+)$/i.exec(s);
      if (!m) throw new Error(`icon ${icon.src}: sizes entry ${JSON.stringify(s)} is not WxH`);
      return [Number(m[1]), Number(m[2])];
    });

describe('the PWA manifest (README: an installable PWA with manifest and icons)', () => {
  it('the build ships the source manifest unchanged', () => {
    expect(built).toEqual(source);
  });

  it.each([
    ['pwa', source],
    ['dist/pwa', built],
  ] as const)('%s/manifest.webmanifest has the fields Chromium needs to offer installation', (_, m) => {
    expect((m.name ?? '').trim() || (m.short_name ?? '').trim(), 'name or short_name').not.toBe('');
    expect(typeof m.start_url, 'start_url').toBe('string');
    expect(['standalone', 'fullscreen', 'minimal-ui']).toContain(m.display);
    // start_url must lie inside the scope, or the installed app opens in a browser tab
    const base = 'https://example.test/app/';
    const start = new URL(m.start_url!, base).href,
      scope = new URL(m.scope ?? './', base).href;
    expect(start.startsWith(scope), `start_url ${start} within scope ${scope}`).toBe(true);
    const png = (m.icons ?? []).filter((i) => i.type === 'image/png' || /\.png$/i.test(i.src));
    const squares = png.flatMap((i) =>
      declaredSizes(i)
        .filter(([w, h]) => w === h)
        .map(([w]) => w),
    );
    expect(squares).toContain(192);
    expect(squares).toContain(512);
  });

  it('every icon in dist/pwa is a PNG of exactly the size its manifest entry declares', () => {
    expect(built.icons?.length).toBeGreaterThanOrEqual(2);
    const measured: string[] = [];
    for (const icon of built.icons!) {
      const file = root(`dist/pwa/${icon.src}`);
      expect(existsSync(file), `${icon.src} exists in dist/pwa`).toBe(true);
      const bytes = readFileSync(file);
      // the PNG signature, then a decodable image (PNG.sync.read checks every chunk's CRC)
      expect([...bytes.subarray(0, 8)], `${icon.src} PNG signature`).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
      const png = PNG.sync.read(bytes);
      expect(declaredSizes(icon), `${icon.src} declared size`).toContainEqual([png.width, png.height]);
      measured.push(`${icon.src} ${png.width}x${png.height}`);
      if (icon.purpose?.split(/\s+/).includes('maskable')) {
        // a maskable icon is cropped to a shape by the launcher: it must be opaque everywhere, corners included
        let transparent = 0;
        for (let i = 3; i < png.data.length; i += 4) if (png.data[i] !== 255) transparent++;
        expect(transparent, `${icon.src}: pixels that are not opaque`).toBe(0);
      }
    }
    expect(measured).toEqual(['icons/icon-192.png 192x192', 'icons/icon-512.png 512x512']);
  });

  it.each(['pwa/index.html', 'dist/pwa/index.html'])('%s links the manifest (and an icon that exists)', (page) => {
    const html = readFileSync(root(page), 'utf8');
    const links = [...html.matchAll(/<link\b[^>]*>/gi)].map((m) => m[0]);
    const href = (rel: string) =>
      links
        .filter((l) => new RegExp(`\\brel=["']?${rel}["'\\s>]`, 'i').test(l))
        .map((l) => /\bhref=["']?([^"'\s>]+)/i.exec(l)?.[1]);
    expect(href('manifest')).toEqual(['manifest.webmanifest']);
    const icons = href('icon');
    expect(icons.length).toBeGreaterThan(0);
    for (const i of icons) expect(existsSync(root(`dist/pwa/${i}`)), `${i} in dist/pwa`).toBe(true);
  });
});
