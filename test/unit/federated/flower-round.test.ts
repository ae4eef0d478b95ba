// @module-tag outside
// Real Flower 1.42 on loopback: a SuperLink, the ServerApp of federated/app run with `flwr run` (FedAvg), and three
// layerhive SuperNodes (src/federated) on non-IID MNIST shards. Checks the federated model against each client's
// local-only model on the global test set, and that a client pushes nothing but arrays and metrics.
import { fromBinary } from '@bufbuild/protobuf';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArrays, startFlower, writeArrays, type LocalFlower } from '../../../federated/local-flower.mjs';
import { createBackend } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { subset } from '../../../src/data/dataset.js';
import { MNIST_NORMALIZATION } from '../../../src/data/batches.js';
import { createRule, type RuleConfig } from '../../../src/learn/create.js';
import { evaluate, train } from '../../../src/learn/trainer.js';
import { parseObject } from '../../../src/federated/objects.js';
import { PushObjectRequestSchema } from '../../../src/federated/generated/flwr/proto/message_pb.generated.js';
import { loadRuleArrays, ruleArrays, ruleClientApp } from '../../../src/federated/rule-client.js';
import { shard } from '../../../src/federated/shards.js';
import { SuperNode } from '../../../src/federated/supernode.js';
import type { Traffic } from '../../../src/federated/fleet-client.js';

const CLIENTS = 3;
const ROUNDS = 3;
const config: RuleConfig = {
  rule: 'backprop',
  model: 'mlp',
  layers: [{ type: 'flatten' }, { type: 'dense', units: 64 }, { type: 'tanh' }, { type: 'dense', units: 10 }],
  inputShape: [1, 28, 28],
  classes: 10,
  optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 },
  seed: 7,
  streams: 'named',
};
const settings = { 'local-epochs': 2, lr: 0.05, 'batch-size': 32 };

let flower: LocalFlower | undefined;
const abort = new AbortController();
const pushedObjects: { type: string; body: Uint8Array }[][] = [[], [], []];
const rounds: { client: number; type: string; traffic: Traffic[]; seconds: number; failed: boolean }[] = [];
let summary: {
  rounds: { round: number; t: number }[];
  evaluate: Record<string, Record<string, number>>;
};
let globalAccuracy = 0;
const localAccuracy: number[] = [];

describe('a Flower 1.42 federation of layerhive clients', () => {
  beforeAll(async () => {
    flower = await startFlower();
    const mnist = await loadMnist();
    const pool = subset(mnist.train, 0, 6000);
    const globalTest = subset(mnist.test, 0, 2000);
    const backend = await createBackend('wasm');
    const work = mkdtempSync(join(tmpdir(), 'layerhive-fl-'));
    // initial arrays: the same seeded model every client builds
    const init = createRule(config, backend);
    writeArrays(
      work,
      [...(await ruleArrays(init))].map(([n, a]) => [n, a.data]),
    );
    init.dispose();

    const shards = Array.from({ length: CLIENTS }, (_, i) => shard(pool, i, CLIENTS, 0.3, 11));
    const nodes = shards.map((trainSet, i) => {
      const testSet = subset(mnist.test, 2000 + i * 300, 300);
      const app = ruleClientApp({ config, backend, trainSet, testSet, normalization: MNIST_NORMALIZATION });
      const recording: typeof fetch = async (url, init) => {
        if (String(url).endsWith('/push-object')) {
          const req = fromBinary(PushObjectRequestSchema, init?.body as Uint8Array);
          const o = parseObject(req.objectContent);
          pushedObjects[i].push({ type: o.type, body: o.body });
        }
        return fetch(url, init);
      };
      const node = new SuperNode({
        server: flower!.server,
        fetch: recording,
        pollMs: 300,
        onRound: (r) =>
          rounds.push({
            client: i,
            type: r.message.messageType,
            traffic: r.traffic,
            seconds: r.seconds,
            failed: !!r.error,
          }),
      });
      return { node, app };
    });
    for (const { node } of nodes) await node.connect(abort.signal);
    const running = nodes.map(({ node, app }) => node.run(app.handler, abort.signal));

    const out = join(work, 'out');
    flower.run({ 'init-dir': work, 'out-dir': out, 'num-server-rounds': ROUNDS, 'min-nodes': CLIENTS, ...settings });
    const t0 = Date.now();
    while (!existsSync(join(out, 'summary.json'))) {
      if (Date.now() - t0 > 150_000) throw new Error(`no result after 150 s:\n${flower.superlinkLog().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    abort.abort();
    await Promise.all(running);
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));

    const global = createRule(config, backend);
    await loadRuleArrays(
      global,
      new Map(
        readArrays(join(out, 'final')).map(([n, d]) => [
          n,
          { dtype: 'float32', shape: [], stype: 'numpy.ndarray', data: d },
        ]),
      ),
    );
    globalAccuracy = await evaluate((x) => global.predict(x), backend, globalTest, 256, MNIST_NORMALIZATION);
    // each client's local-only model: the same local training (rounds × local epochs) on its shard alone
    for (const [i, trainSet] of shards.entries()) {
      const local = createRule(config, backend);
      await train(local, trainSet, subset(mnist.test, 2000 + i * 300, 300), {
        epochs: ROUNDS * settings['local-epochs'],
        lr: settings.lr,
        batchSize: settings['batch-size'],
        seed: config.seed,
        normalization: MNIST_NORMALIZATION,
      });
      localAccuracy.push(await evaluate((x) => local.predict(x), backend, globalTest, 256, MNIST_NORMALIZATION));
    }
    const perRound = Object.entries(summary.evaluate).map(([r, m]) => `round ${r}: ${(100 * m.accuracy).toFixed(1)}%`);
    console.log(
      `FedAvg, 3 clients, non-IID α=0.3: ${perRound.join(', ')}; global test ${(100 * globalAccuracy).toFixed(1)}%`,
    );
    console.log(
      `local-only models on the global test: ${localAccuracy.map((a) => `${(100 * a).toFixed(1)}%`).join(', ')}`,
    );
    for (const r of rounds)
      console.log(
        `client ${r.client} ${r.type}: ${r.seconds.toFixed(2)} s, ` +
          `sent ${r.traffic.reduce((a, t) => a + t.sent, 0)} B,` +
          ` received ${r.traffic.reduce((a, t) => a + t.received, 0)} B`,
      );
    console.log(`round end times (s since start): ${summary.rounds.map((r) => r.t.toFixed(1)).join(', ')}`);
  }, 240_000);

  afterAll(() => {
    abort.abort();
    flower?.stop();
  });

  it('runs every round with every client: 3 train and 3 evaluate replies each', () => {
    for (let c = 0; c < CLIENTS; c++)
      for (const type of ['train', 'evaluate'])
        expect(rounds.filter((r) => r.client === c && r.type === type && !r.failed)).toHaveLength(ROUNDS);
    expect(Object.keys(summary.evaluate).sort()).toEqual(['1', '2', '3']);
  });

  it("beats every client's local-only model on the global test set after the last round", () => {
    for (const a of localAccuracy) expect(globalAccuracy).toBeGreaterThan(a);
  });

  it('pushes nothing but arrays and metrics (num-examples, loss, accuracy)', () => {
    for (const objects of pushedObjects) {
      expect(objects.length).toBeGreaterThan(0);
      const types = new Set(objects.map((o) => o.type));
      for (const t of types)
        expect(['Message', 'RecordDict', 'ArrayRecord', 'Array', 'ArrayChunk', 'MetricRecord']).toContain(t);
      for (const o of objects.filter((x) => x.type === 'RecordDict')) {
        const keys = Object.keys(JSON.parse(new TextDecoder().decode(o.body)));
        expect(keys.every((k) => k === 'arrays' || k === 'metrics')).toBe(true);
      }
    }
  });
});
