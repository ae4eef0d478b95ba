import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fail } from '../core/errors.js';
import { flowerProxy } from './flower-proxy.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.bin': 'application/octet-stream',
  '.css': 'text/css',
};

/** The app's Content-Security-Policy: nothing may be fetched from, or sent to, another origin. */
export const CSP =
  "default-src 'self'; connect-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
  "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; " +
  "form-action 'none'";

/**
 * Serves a built app folder on `host` with the headers it needs: cross-origin isolation (COOP/COEP/CORP, so
 * SharedArrayBuffer works) and the CSP above; no caching headers beyond revalidation (the service worker caches).
 * With `flower` (a SuperLink's Fleet API address), `/flower/*` passes through to it (flower-proxy.ts); without, 404.
 */
export async function serveApp(
  dir: string,
  o: { host: string; port: number; flower?: string },
): Promise<{ server: Server; url: string }> {
  const rootDir = resolve(dir);
  if (!(await stat(join(rootDir, 'index.html')).catch(() => null)))
    fail(
      'NOT_FOUND',
      `${rootDir} has no index.html`,
      'build the app first (npm run build in a clone of layerhive; the npm package does not ship it), or pass --dir',
    );
  const proxy = o.flower ? flowerProxy({ upstream: o.flower }) : undefined;
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = resolve(rootDir, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    };
    if (/^\/flower(\/|$)/.test(path)) {
      if (!proxy) res.writeHead(404, headers).end('this server offers no federation (serve --flower URL)');
      else await proxy(req, res, headers);
      return;
    }
    if (file !== rootDir && !file.startsWith(rootDir + sep)) {
      res.writeHead(403, headers).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(o.port, o.host, () => ok());
  }).catch((e: NodeJS.ErrnoException) =>
    fail(
      'INVALID_ARGUMENT',
      `cannot listen on ${o.host}:${o.port} (${e.code ?? e.message})`,
      'pass another --port, or 0 for any free one',
    ),
  );
  const { port } = server.address() as { port: number };
  return { server, url: `http://${o.host}:${port}/` };
}
