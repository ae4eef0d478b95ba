// `layerhive serve --flower URL`: the app server's /flower/* pass-through to a SuperLink's Fleet API, against real
// HTTP servers on loopback (an upstream that records what reaches it): bytes, status and the signing headers pass,
// nothing else does; a dead upstream is a 502, an oversized body a 413, and without --flower /flower/* is 404.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowerProxy } from '../../../src/cli/flower-proxy.js';
import { serveApp } from '../../../src/cli/serve.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Uint8Array;
}

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};
const close = (server: Server) => new Promise<void>((r) => server.close(() => r()));

/** An upstream that records each request and answers with `reply` (its status and bytes). */
function upstream(reply: (s: Seen) => { status: number; body: Uint8Array }) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts) };
    seen.push(s);
    const r = reply(s);
    res.writeHead(r.status, { 'Content-Type': 'application/protobuf' }).end(r.body);
  });
  return { server, seen };
}

const app = mkdtempSync(join(tmpdir(), 'layerhive-proxy-'));
writeFileSync(join(app, 'index.html'), '<!doctype html><title>app</title>');
const fleet = { server: createServer(), seen: [] as Seen[] };
let fleetUrl = '';
let withFlower: { server: Server; url: string };
let without: { server: Server; url: string };
const answer = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) % 256);

const post = (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/protobuf', ...headers },
    body: body as Uint8Array<ArrayBuffer>,
  });

describe('serve --flower: the /flower/* pass-through', { tags: ['behaviour'] }, () => {
  beforeAll(async () => {
    Object.assign(
      fleet,
      upstream((s) =>
        s.url.endsWith('/activate-node')
          ? { status: 401, body: new TextEncoder().encode('unknown node') }
          : { status: 200, body: answer },
      ),
    );
    fleetUrl = await listen(fleet.server);
    withFlower = await serveApp(app, { host: '127.0.0.1', port: 0, flower: `${fleetUrl}/` });
    without = await serveApp(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    for (const s of [fleet.server, withFlower.server, without.server]) await close(s);
  });

  it('passes the body, the content type and the signing headers through, and the answer back', async () => {
    const body = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) % 251);
    const signing = {
      'flwr-public-key': 'cGVt',
      'flwr-timestamp': '2026-11-30T18:00:00+00:00',
      'flwr-signature': 'c2ln',
    };
    const res = await post(`${withFlower.url}flower/v1/fleet/pull-messages`, body, {
      ...signing,
      cookie: 'session=secret',
      'x-other': 'no',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/protobuf');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(answer);
    const s = fleet.seen.at(-1)!;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/v1/fleet/pull-messages');
    expect(new Uint8Array(s.body)).toEqual(body);
    for (const [k, v] of Object.entries(signing)) expect(s.headers[k]).toBe(v);
    expect(s.headers['content-type']).toBe('application/protobuf');
    expect(s.headers.cookie).toBeUndefined();
    expect(s.headers['x-other']).toBeUndefined();
  });

  it("passes the SuperLink's status and its text back", async () => {
    const res = await post(`${withFlower.url}flower/v1/fleet/activate-node`, new Uint8Array(4));
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('unknown node');
  });

  it('says which SuperLink it passes to at GET /flower/', async () => {
    const res = await fetch(`${withFlower.url}flower/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ server: fleetUrl });
  });

  it('forwards only POSTs of protobuf to /flower/v1/fleet/<rpc>', async () => {
    const before = fleet.seen.length;
    const calls: [string, RequestInit, number][] = [
      ['flower/v1/fleet/pull-messages', { method: 'GET' }, 405],
      ['flower/v1/fleet/pull-messages', { method: 'PUT', body: 'x' }, 405],
      [
        'flower/v1/control/start-run',
        { method: 'POST', body: 'x', headers: { 'content-type': 'application/protobuf' } },
        404,
      ],
      [
        'flower/v1/fleet/Pull_Messages',
        { method: 'POST', body: 'x', headers: { 'content-type': 'application/protobuf' } },
        404,
      ],
      ['flower/other', { method: 'POST', body: 'x', headers: { 'content-type': 'application/protobuf' } }, 404],
      ['flower/v1/fleet/pull-messages', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }, 415],
      ['flower/', { method: 'POST', body: 'x' }, 405],
    ];
    for (const [path, init, status] of calls)
      expect([path, (await fetch(withFlower.url + path, init)).status]).toEqual([path, status]);
    expect(fleet.seen.length).toBe(before);
  });

  it('is 404 everywhere under /flower without --flower; the app is still served', async () => {
    expect((await fetch(`${without.url}flower/`)).status).toBe(404);
    expect((await post(`${without.url}flower/v1/fleet/pull-messages`, new Uint8Array(4))).status).toBe(404);
    expect((await fetch(without.url)).status).toBe(200);
  });

  it('answers 502 with a short text when the SuperLink cannot be reached', async () => {
    const dead = createServer();
    const url = await listen(dead);
    await close(dead); // nothing listens there now
    const s = await serveApp(app, { host: '127.0.0.1', port: 0, flower: url });
    try {
      const res = await post(`${s.url}flower/v1/fleet/pull-messages`, new Uint8Array(8));
      expect(res.status).toBe(502);
      expect(await res.text()).toMatch(/^the Flower SuperLink did not answer \(unreachable\)$/);
    } finally {
      await close(s.server);
    }
  });

  it('refuses a request body over its limit (413, not forwarded) and an answer over it (502)', async () => {
    const big = upstream((s) => ({ status: 200, body: new Uint8Array(s.url.endsWith('/pull-object') ? 2000 : 10) }));
    const bigUrl = await listen(big.server);
    const handle = flowerProxy({ upstream: bigUrl, maxBodyBytes: 1000 });
    const front = createServer((req, res) => void handle(req, res, {}));
    const url = await listen(front);
    try {
      expect((await post(`${url}/flower/v1/fleet/push-object`, new Uint8Array(1000))).status).toBe(200);
      const over = await post(`${url}/flower/v1/fleet/push-object`, new Uint8Array(1001));
      expect(over.status).toBe(413);
      expect(big.seen).toHaveLength(1);
      const answerOver = await post(`${url}/flower/v1/fleet/pull-object`, new Uint8Array(10));
      expect(answerOver.status).toBe(502);
      expect(await answerOver.text()).toMatch(/over 1000 bytes/);
    } finally {
      await close(front);
      await close(big.server);
    }
  });

  it('refuses an upstream that is not an http(s) URL with a typed error', async () => {
    for (const bad of ['127.0.0.1:9095', 'ftp://127.0.0.1/', 'nonsense'])
      await expect(serveApp(app, { host: '127.0.0.1', port: 0, flower: bad })).rejects.toMatchObject({
        name: 'LayerhiveError',
        code: 'INVALID_ARGUMENT',
      });
  });
});
