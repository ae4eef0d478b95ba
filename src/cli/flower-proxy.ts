import type { IncomingMessage, ServerResponse } from 'node:http';
import { fail } from '../core/errors.js';

export interface FlowerProxyOptions {
  /** The SuperLink's Fleet API address (its REST transport), e.g. 'http://127.0.0.1:9095'. */
  upstream: string;
  /** Largest request or response body passed through (default 64 MiB: a round's arrays travel in objects). */
  maxBodyBytes?: number;
  /** Longest one upstream call may take (default 60 s, as the page's own Fleet client waits). */
  timeoutMs?: number;
}

/** The Fleet API's calls are `POST /v1/fleet/<rpc>`, rpc in kebab case ('pull-messages', 'push-object', …). */
const FLEET = /^\/flower\/v1\/fleet\/([a-z][a-z-]{0,63})$/;

/** The request headers that travel upstream: the body's type and the node's signature; nothing of the browser's. */
const passed = (name: string) => name === 'content-type' || name === 'accept' || name.startsWith('flwr-');

/** The upstream address checked once, without a trailing slash. */
export function flowerUpstream(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail('INVALID_ARGUMENT', `--flower ${url} is not a URL`, 'pass the SuperLink address, e.g. http://127.0.0.1:9095');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    fail('INVALID_ARGUMENT', `--flower ${url} is not http(s)`, 'pass the Fleet API address of flower-superlink');
  return u.href.replace(/\/+$/, '');
}

/** Reads a body up to `limit` bytes; null when it is larger (the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return null;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * The app server's `/flower/*`: a pass-through to a Flower SuperLink's Fleet API, so the page talks only to its own
 * origin (its CSP keeps `connect-src 'self'`, no CORS). `GET /flower/` says which SuperLink (JSON `{server}`);
 * `POST /flower/v1/fleet/<rpc>` goes to `<upstream>/v1/fleet/<rpc>` with its protobuf body and signing headers, and
 * the answer's status and body come back. Nothing else is forwarded: other paths are 404, other methods 405, other
 * bodies 415 (a protobuf POST cannot come from another origin's form without a CORS preflight, which is not answered).
 */
export function flowerProxy(o: FlowerProxyOptions) {
  const upstream = flowerUpstream(o.upstream);
  const limit = o.maxBodyBytes ?? 64 * 2 ** 20;
  return async (req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const text = (status: number, body: string): void => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
    };
    if (path === '/flower' || path === '/flower/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'GET only');
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      return void res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ server: upstream }));
    }
    const rpc = FLEET.exec(path)?.[1];
    if (!rpc) return text(404, 'not a Fleet API call');
    if (req.method !== 'POST') return text(405, 'the Fleet API takes POST');
    if (!/^application\/protobuf\b/.test(req.headers['content-type'] ?? ''))
      return text(415, 'the Fleet API takes application/protobuf');
    const body = await readBody(req, limit);
    if (!body) {
      res.setHeader('Connection', 'close'); // the rest of an oversized body is not read
      return text(413, `a request body over ${limit} bytes`);
    }
    const forward: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (passed(k) && typeof v === 'string') forward[k] = v;
    let answer: Response;
    try {
      answer = await fetch(`${upstream}/v1/fleet/${rpc}`, {
        method: 'POST',
        headers: forward,
        body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length),
        signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      });
    } catch (e) {
      const timeout = (e as Error).name === 'TimeoutError';
      return text(timeout ? 504 : 502, `the Flower SuperLink did not answer (${timeout ? 'timeout' : 'unreachable'})`);
    }
    if (Number(answer.headers.get('content-length') ?? 0) > limit) {
      await answer.body?.cancel();
      return text(502, `the SuperLink's answer is over ${limit} bytes`);
    }
    const bytes = new Uint8Array(await answer.arrayBuffer());
    if (bytes.length > limit) return text(502, `the SuperLink's answer is over ${limit} bytes`);
    res.writeHead(answer.status, {
      ...headers,
      'Content-Type': answer.headers.get('content-type') ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    res.end(bytes);
  };
}
