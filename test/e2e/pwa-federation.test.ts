// @module-tag behaviour
/**
 * The app joins a real Flower 1.42 federation (issue 21, item 5): a SuperLink on loopback, the built app served with
 * `serve --flower` (the page reaches the SuperLink only through its own origin), three Node SuperNodes and one
 * Chromium page that joins through My model, all with the app's network in use (the shipped CNN in the last-layer
 * mode: tpSGD trains its output layer) from the same shipped weights, each on a non-IID MNIST shard (the page's in
 * the app's stored samples). Three rounds of FedAvg with min-nodes 4: every round has every client's replies, the
 * global model beats every client's local-only model on a global test set, the page asks only its own origin, its
 * personalised version is untouched and the federation's model is a version of its own.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import type { Page } from 'playwright-core';
import { fromBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrays, startFlower, writeArrays, type LocalFlower } from '../../federated/local-flower.mjs';
import { createBackend, createRule, copyWeights, evaluate, fetchCheckpoint, train } from '../../src/index.js';
import type { Backend, LearningRule, RuleConfig } from '../../src/index.js';
import { loadMnist } from '../../src/data/idx-file.js';
import { subset } from '../../src/data/dataset.js';
import { decodeNpy } from '../../src/federated/npy.js';
import { parseObject } from '../../src/federated/objects.js';
import { PushObjectRequestSchema } from '../../src/federated/generated/flwr/proto/message_pb.generated.js';
import { loadRuleArrays, ruleArrays, ruleClientApp } from '../../src/federated/rule-client.js';
import { shard } from '../../src/federated/shards.js';
import { SuperNode } from '../../src/federated/supernode.js';
import { serveApp } from '../../src/cli/serve.js';
import { learnConfig } from '../../pwa/src/learn-modes.js';
import { launch } from './chromium.js';
import { msg, putSamples, ready, savedVersions } from './app-page.js';

const NODES = 3;
const ROUNDS = 3;
const POOL = 6000; // 4 non-IID shards of about 1 500 images
const ALPHA = 0.3;
const settings = { 'local-epochs': 1, lr: 0.005, 'batch-size': 16 };
const appDir = fileURLToPath(new URL('../../dist/pwa/', import.meta.url));

let flower: LocalFlower | undefined;
let app: { server: Server; url: string } | undefined;
let browser: Awaited<ReturnType<typeof launch>> | undefined;
let page: Page;
const abort = new AbortController();
const requests: string[] = [];
/** The bodies of the page's push-object calls: every object it sent to the SuperLink. */
const pushed: Uint8Array[] = [];
const nodeReplies: { client: number; type: string; round: string; failed: boolean; sent: number }[] = [];
let pageRounds: { round: number; local: string; global: string; sent: number; received: number }[] = [];
let before: Awaited<ReturnType<typeof savedVersions>> = [];
let after: Awaited<ReturnType<typeof savedVersions>> = [];
const finalDigest: Record<string, [number, number]> = {};
let pageConfig: RuleConfig | undefined;
let config: RuleConfig;
const globalPerRound: number[] = [];
let startAccuracy = 0;
const shots = fileURLToPath(new URL('../../.tmp/screenshots/', import.meta.url));
const localOnly: number[] = [];
let sendsText = '';
let offlineStatus: string | null = null;
let backOnline: string | null = null;
let moved = 0;

const rows = (p: Page) =>
  p.locator('table.federation-rounds tr[data-round]').evaluateAll((trs) =>
    trs.map((tr) => {
      const td = [...tr.querySelectorAll('td')];
      return {
        round: Number(td[0].textContent),
        local: td[1].textContent ?? '',
        global: td[2].textContent ?? '',
        sent: Number(td[3].getAttribute('data-bytes')),
        received: Number(td[4].getAttribute('data-bytes')),
      };
    }),
  );

/** The shipped CNN as the app's last-layer mode starts from it: its config, and a rule with its weights. */
function shipped(ck: Awaited<ReturnType<typeof fetchCheckpoint>>, backend: Backend): LearningRule {
  const rule = createRule(config, backend);
  copyWeights(ck, rule);
  return rule;
}

describe('the app in a Flower federation', () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const stamp = (what: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${what}`);
    flower = await startFlower();
    app = await serveApp(appDir, { host: '127.0.0.1', port: 0, flower: flower.server });
    const backend = await createBackend('wasm');
    const base = await fetchCheckpoint(`${app.url}base/`);
    config = learnConfig('last-layer', base.config);
    const mnist = await loadMnist();
    const pool = subset(mnist.train, 0, POOL);
    const globalTest = subset(mnist.test, 0, 2000);
    const shards = Array.from({ length: NODES + 1 }, (_, i) => shard(pool, i, NODES + 1, ALPHA, 11));
    const work = mkdtempSync(join(tmpdir(), 'layerhive-fl-app-'));
    const init = shipped(base, backend);
    writeArrays(
      work,
      [...(await ruleArrays(init))].map(([n, a]) => [n, a.data]),
    );
    startAccuracy = await evaluate((x) => init.predict(x), backend, globalTest, 256);
    init.dispose();

    // the page: a personalised version first (Learn on a few of its samples), then the rest of its shard
    browser = await launch();
    browser.context.on('request', (r) => {
      requests.push(r.url());
      if (r.url().endsWith('/flower/v1/fleet/push-object')) pushed.push(new Uint8Array(r.postDataBuffer() ?? []));
    });
    page = await browser.context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(app.url);
    await ready(page);
    const mine = shards[NODES];
    const first = 60;
    await putSamples(page, mine.images.subarray(0, first * 784), mine.labels.subarray(0, first));
    await page.locator('#learn').click();
    const learned = await until(
      () => msg(page),
      (m) => /^learned|^learning failed/.test(m ?? ''),
      180_000,
    );
    expect(learned).toMatch(/^learned/);
    stamp('the page learned a personalised version');
    await putSamples(page, mine.images.subarray(first * 784), mine.labels.subarray(first));
    before = await savedVersions(page);
    pageConfig = await page.evaluate(
      () => (document.querySelector('lh-app') as Element & { model: { config: RuleConfig } }).model.config,
    );
    await page.locator('nav button', { hasText: 'My model' }).click();
    await until(
      () => page.locator('#federation-server').textContent(),
      (t) => t === flower?.server,
      30_000,
    );
    sendsText = (await page.locator('#federation-sends').textContent()) ?? '';
    await page.locator('#join-federation').click();
    await until(
      () => page.locator('#federation-status').textContent(),
      (t) => /^joined/.test(t ?? ''),
      60_000,
    );
    stamp('the page joined');
    // offline for a while: the page waits for the server (no error) and is back once it answers again
    await browser.context.setOffline(true);
    offlineStatus = await until(
      () => page.locator('#federation-status').textContent(),
      (t) => /^waiting for the server/.test(t ?? ''),
      30_000,
    ).catch((e: Error) => e.message);
    await browser.context.setOffline(false);
    backOnline = await until(
      () => page.locator('#federation-status').textContent(),
      (t) => /^joined/.test(t ?? ''),
      60_000,
    ).catch((e: Error) => e.message);
    stamp('the page was offline and back');

    // three Node SuperNodes with the same network, from the same weights (the server's initial arrays)
    const nodes = shards.slice(0, NODES).map((trainSet, i) => {
      const testSet = subset(mnist.test, 2000 + i * 300, 300);
      const client = ruleClientApp({ config, backend, trainSet, testSet });
      const node = new SuperNode({
        server: flower!.server,
        pollMs: 300,
        onRound: (r) =>
          nodeReplies.push({
            client: i,
            type: r.message.messageType,
            round: r.message.groupId,
            failed: !!r.error,
            sent: r.traffic.reduce((a, t) => a + t.sent, 0),
          }),
      });
      return { node, client };
    });
    for (const { node } of nodes) await node.connect(abort.signal);
    const running = nodes.map(({ node, client }) => node.run(client.handler, abort.signal));
    const out = join(work, 'out');
    flower.run({ 'init-dir': work, 'out-dir': out, 'num-server-rounds': ROUNDS, 'min-nodes': NODES + 1, ...settings });
    const t1 = Date.now();
    while (!existsSync(join(out, 'summary.json'))) {
      if (Date.now() - t1 > 240_000) throw new Error(`no result after 240 s:\n${flower.superlinkLog().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    stamp(`${ROUNDS} rounds done`);
    abort.abort();
    await Promise.all(running);
    await until(
      () => rows(page),
      (r) => r.filter((x) => x.global !== '–').length === ROUNDS,
      30_000,
    );
    pageRounds = await rows(page);
    mkdirSync(shots, { recursive: true });
    await page.locator('.federation').screenshot({ path: `${shots}federation-panel.png` });
    after = await savedVersions(page);
    await page.locator('#leave-federation').click();
    await until(
      () => page.locator('#join-federation').count(),
      (n) => n === 1,
      30_000,
    );

    // the global model after each round, and each client's local-only model, on the global test set
    const evalArrays = async (dir: string) => {
      const rule = createRule(config, backend);
      const arrays = readArrays(dir);
      await loadRuleArrays(
        rule,
        new Map(arrays.map(([n, d]) => [n, { dtype: 'float32', shape: [], stype: 'numpy.ndarray', data: d }])),
      );
      const a = await evaluate((x) => rule.predict(x), backend, globalTest, 256);
      rule.dispose();
      return { accuracy: a, arrays };
    };
    for (let r = 1; r <= ROUNDS; r++) globalPerRound.push((await evalArrays(join(out, `round-${r}`))).accuracy);
    const final = await evalArrays(join(out, 'final'));
    for (const [n, d] of final.arrays) {
      const v = decodeNpy(d).data as Float32Array;
      let sum = 0,
        abs = 0;
      for (const x of v) {
        sum += x;
        abs += Math.abs(x);
      }
      finalDigest[n] = [sum, abs];
    }
    globalPerRound.push(final.accuracy);
    // how far the rounds moved the weights from the initial ones (L2)
    const initial = new Map(readArrays(work));
    for (const [n, d] of final.arrays) {
      const a = decodeNpy(d).data as Float32Array,
        b = decodeNpy(initial.get(n)!).data as Float32Array;
      for (let i = 0; i < a.length; i++) moved += (a[i] - b[i]) ** 2;
    }
    moved = Math.sqrt(moved);
    for (const trainSet of shards) {
      const local = shipped(base, backend);
      await train(local, trainSet, subset(mnist.test, 3000, 200), {
        epochs: ROUNDS * settings['local-epochs'],
        lr: settings.lr,
        batchSize: settings['batch-size'],
        seed: config.seed,
      });
      localOnly.push(await evaluate((x) => local.predict(x), backend, globalTest, 256));
      local.dispose();
    }
    const pc = (a: number) => `${(100 * a).toFixed(2)}%`;
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    console.log(
      `FedAvg, 3 Node clients + 1 page, non-IID α=${ALPHA}, shards ${shards.map((s) => s.count).join('/')} images: ` +
        `global test after rounds 1-3: ${globalPerRound.slice(0, ROUNDS).map(pc).join(', ')} ` +
        `(the shipped model before: ${pc(startAccuracy)}; weights moved ${moved.toFixed(3)} in L2); ` +
        `clients' evaluate: ${Object.values(summary.evaluate as Record<string, { accuracy: number }>)
          .map((m) => pc(m.accuracy))
          .join(', ')}`,
    );
    console.log(
      `local-only models on the global test (Node clients 0-2, the page's shard): ${localOnly.map(pc).join(', ')}`,
    );
    console.log(`the page says it sends: ${sendsText.replace(/\s+/g, ' ')}`);
    for (const r of pageRounds)
      console.log(
        `page round ${r.round}: local ${r.local}, global ${r.global}, sent ${r.sent} B, received ${r.received} B`,
      );
    console.log(
      `round end times (s since start): ${summary.rounds.map((r: { t: number }) => r.t.toFixed(1)).join(', ')}`,
    );
    stamp('figures done');
  }, 420_000);

  afterAll(async () => {
    abort.abort();
    await browser?.close();
    if (app) await new Promise<void>((r) => app!.server.close(() => r()));
    flower?.stop();
  });

  it('runs the app with the same network as the Node clients', () => {
    expect(pageConfig).toEqual(config);
  });

  it('has every round answered by all four clients, the page included', () => {
    for (let c = 0; c < NODES; c++)
      for (const type of ['train', 'evaluate'])
        expect(nodeReplies.filter((r) => r.client === c && r.type === type && !r.failed)).toHaveLength(ROUNDS);
    expect(pageRounds.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const r of pageRounds) {
      expect(r.local).toMatch(/^\d+%$/);
      expect(r.global).toMatch(/^\d+%$/);
      // a round sends the model's weights (float32) once: more than 4 bytes per weight of the last layer alone
      expect(r.sent).toBeGreaterThan(4 * 1290);
    }
  });

  it('waits for the server while offline, and takes part again once back', () => {
    expect(offlineStatus).toMatch(/^waiting for the server/);
    expect(backOnline).toMatch(/^joined/);
  });

  it("beats every client's local-only model on the global test set after round 3", () => {
    expect(moved).toBeGreaterThan(0); // the rounds trained: the global model is not the initial one
    for (const a of localOnly) expect(globalPerRound[ROUNDS]).toBeGreaterThan(a);
  });

  it('the page asks only its own origin', () => {
    const origin = new URL(app!.url).origin;
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.some((u) => u.startsWith(`${origin}/flower/v1/fleet/`))).toBe(true);
    const elsewhere = requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
    expect(elsewhere).toEqual([]);
  });

  it('sends nothing but arrays and metrics from the page', () => {
    expect(pushed.length).toBeGreaterThan(0);
    const objects = pushed.map((b) => parseObject(fromBinary(PushObjectRequestSchema, b).objectContent));
    for (const o of objects)
      expect(['Message', 'RecordDict', 'ArrayRecord', 'Array', 'ArrayChunk', 'MetricRecord']).toContain(o.type);
    const dicts = objects.filter((o) => o.type === 'RecordDict');
    expect(dicts.length).toBeGreaterThan(0);
    for (const o of dicts)
      for (const k of Object.keys(JSON.parse(new TextDecoder().decode(o.body))))
        expect(['arrays', 'metrics']).toContain(k);
  });

  it('keeps the personalised version untouched; the federated model is a version of its own', () => {
    const personal = before.find((v) => v.meta.mode === 'last-layer' && !v.meta.federated);
    expect(personal).toBeDefined();
    expect(after.find((v) => v.version === personal!.version)).toEqual(personal);
    const federated = after.filter((v) => v.meta.federated);
    expect(federated).toHaveLength(1); // each round's model replaced the run's previous one, no other version
    const f = federated[0];
    expect(f.version).not.toBe(personal!.version);
    expect(f.meta.federated).toMatchObject({ round: ROUNDS, server: flower!.server });
    // it is the server's final global model
    for (const [n, [sum, abs]] of Object.entries(finalDigest)) {
      expect(f.digest[n][1]).toBeCloseTo(abs, 1);
      expect(Math.abs(f.digest[n][0] - sum)).toBeLessThanOrEqual(1e-3 * abs + 1e-3);
    }
  });
});

/** Polls `get` until `ok` says yes (beforeAll cannot use expect.poll); gives the last value, or throws with it. */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`gave up after ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
