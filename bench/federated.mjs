// The `federated` suite: federated learning through a real, unmodified Flower 1.42 on loopback. One SuperLink
// (federated/local-flower.mjs, from .venv-flower), the ServerApp of federated/app run with `flwr run`, and N layerhive
// SuperNodes in this process, each on its own non-IID (Dirichlet α) shard of MNIST. FedAvg, then FedProx (μ), then
// optionally FedAdam run one after another, each with fresh nodes (no optimizer state carried between strategies).
//
//   node --experimental-wasm-relaxed-simd bench/run.mjs federated [--quick] [--clients 3] [--rounds 5] [--alpha 0.3]
//        [--mu 0.1] [--fedadam] [--limit 6000] [--hidden 64] [--epochs 2] [--rule backprop|tpsgd] [--out FILE]
//
// Per strategy and round: Flower's aggregated evaluate accuracy (each client scores the global arrays on its own
// 300-image slice of the MNIST test set; Flower weights by num-examples), the global model's accuracy on a held-out
// global test set (MNIST test images 5000–9999, none of which any client holds; the arrays the ServerApp wrote after
// that round's aggregation), the bytes each client sent and received for its train and its evaluate message (the
// Fleet calls from the pulled message's objects to the confirmation; empty polls and heartbeats between messages are
// not counted), the round's time on Flower's clock (train and evaluate, from the ServerApp's summary) and the
// clients' seconds per message. Baseline rows: each client's local-only
// model, trained on its shard alone for as many epochs (rounds × local epochs), on the same global test set.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lh from '../dist/index.js';
import { loadMnist } from '../dist/node.js';
import { readArrays, startFlower, writeArrays } from '../federated/local-flower.mjs';
import { machineInfo } from './machine.mjs';

// the federated client is part of the library's API (src/index.ts); checked in runSuite for a clear message
const {
  MNIST_NORMALIZATION,
  SuperNode,
  createBackend,
  createRule,
  evaluate,
  loadRuleArrays,
  ruleArrays,
  ruleClientApp,
  shard,
  subset,
  train,
} = lh;

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = join(here, 'results', 'federated.json');
const RULES = ['backprop', 'tpsgd'];
const FULL = Object.freeze({ clients: 3, rounds: 5, alpha: 0.3, mu: 0.1, limit: 6000, hidden: 64, epochs: 2 });
const QUICK = Object.freeze({ ...FULL, rounds: 2, limit: 3000, epochs: 1 });
/** Each client's evaluate slice: MNIST test images [i·300, (i+1)·300); the global test set comes after them. */
const CLIENT_TEST = 300;
const GLOBAL_TEST = { start: 5000, count: 5000 };
const TRAIN = { lr: 0.05, 'batch-size': 32 };
const SEED = 7;
const SHARD_SEED = 11;
const ROUND_TIMEOUT_MS = 5 * 60_000;

const pct = (v) => (v === undefined || v === null ? '—' : `${(100 * v).toFixed(1)}%`);
const kB = (b) => (Number.isFinite(b) ? (b / 1000).toFixed(1) : '—');
const secs = (v) => (Number.isFinite(v) ? v.toFixed(2) : '—');
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const sum = (traffic, k) => traffic.reduce((a, t) => a + t[k], 0);

function ruleConfig(rule, hidden) {
  return {
    rule,
    model: 'mlp',
    layers: [{ type: 'flatten' }, { type: 'dense', units: hidden }, { type: 'tanh' }, { type: 'dense', units: 10 }],
    inputShape: [1, 28, 28],
    classes: 10,
    optimizer: { type: 'sgd', lr: TRAIN.lr, momentum: 0.9 },
    ...(rule === 'tpsgd' ? { tpsgd: { loss: 'l2' } } : {}),
    seed: SEED,
    streams: 'named',
  };
}

/** Options from bench/run.mjs (commander gives strings) checked against the defaults. */
function settingsOf(opts) {
  const base = opts.quick ? QUICK : FULL;
  const num = (v, d) => (v === undefined ? d : Number(v));
  const s = {
    clients: num(opts.clients, base.clients),
    rounds: num(opts.rounds, base.rounds),
    alpha: num(opts.alpha, base.alpha),
    mu: num(opts.mu, base.mu),
    limit: num(opts.limit, base.limit),
    hidden: num(opts.hidden, base.hidden),
    epochs: num(opts.epochs, base.epochs),
    rule: opts.rule ?? 'backprop',
    strategies: ['fedavg', 'fedprox', ...(opts.fedadam ? ['fedadam'] : [])],
  };
  const problems = [];
  for (const k of ['clients', 'rounds', 'limit', 'hidden', 'epochs'])
    if (!(Number.isInteger(s[k]) && s[k] >= 1)) problems.push(`--${k} must be a positive integer`);
  if (!(s.alpha > 0)) problems.push('--alpha must be a positive number (Dirichlet concentration)');
  if (!(s.mu > 0)) problems.push('--mu must be a positive number (FedProx proximal term)');
  if (s.clients * CLIENT_TEST > GLOBAL_TEST.start)
    problems.push(`--clients must be at most ${GLOBAL_TEST.start / CLIENT_TEST}`);
  if (!RULES.includes(s.rule)) problems.push(`--rule must be one of ${RULES.join(', ')}`);
  s.limit = Math.min(s.limit, 60000);
  return { s, problems };
}

async function waitFor(file, flower) {
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > ROUND_TIMEOUT_MS)
      throw new Error(`no ${file} after ${ROUND_TIMEOUT_MS / 1000} s:\n${flower.superlinkLog().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A message's round: Flower 1.42's strategies put it in the config record ('server-round'), not in group_id. */
function roundOf(message) {
  const c = message.content.get('config');
  const v = c?.kind === 'config' ? c.values.get('server-round') : undefined;
  return v === undefined ? Number(message.groupId) : Number(v);
}

/**
 * The global model after a round: the ServerApp's arrays for that round, scored on the global test set. Arrays the
 * client would refuse (wrong dtype or shape) are not scored either: the error is the result.
 */
async function globalAccuracy(dir, config, backend, testSet) {
  const rule = createRule(config, backend);
  try {
    const arrays = new Map(
      readArrays(dir).map(([n, d]) => [n, { dtype: 'float32', shape: [], stype: 'numpy.ndarray', data: d }]),
    );
    try {
      await loadRuleArrays(rule, arrays);
    } catch (e) {
      if (e?.fault !== 'shape') throw e;
      return { accuracy: null, error: e.detail ?? e.message };
    }
    return { accuracy: await evaluate((x) => rule.predict(x), backend, testSet, 256, MNIST_NORMALIZATION) };
  } finally {
    rule.dispose();
  }
}

/** One strategy's run: fresh nodes, `flwr run`, then the per-round rows. */
async function runStrategy(strategy, s, ctx) {
  const { flower, backend, config, shards, mnist, init, globalTest } = ctx;
  const abort = new AbortController();
  const messages = [];
  const faults = [];
  const nodes = shards.map((trainSet, i) => {
    const testSet = subset(mnist.test, i * CLIENT_TEST, CLIENT_TEST);
    const app = ruleClientApp({ config, backend, trainSet, testSet, normalization: MNIST_NORMALIZATION });
    const node = new SuperNode({
      server: flower.server,
      pollMs: 200,
      onRound: (r) =>
        messages.push({
          client: i,
          type: r.message.messageType.split('.')[0],
          round: roundOf(r.message),
          sent: sum(r.traffic, 'sent'),
          received: sum(r.traffic, 'received'),
          seconds: r.seconds,
          error: r.error ? String(r.error.message ?? r.error) : undefined,
        }),
      onFault: (e) => faults.push(String(e.message ?? e)),
    });
    return { node, app };
  });
  const t0 = performance.now();
  for (const { node } of nodes) await node.connect(abort.signal);
  const running = nodes.map(({ node, app }) => node.run(app.handler, abort.signal));
  const out = join(ctx.work, strategy);
  let summary;
  try {
    flower.run({
      'init-dir': init,
      'out-dir': out,
      'num-server-rounds': s.rounds,
      'min-nodes': s.clients,
      'local-epochs': s.epochs,
      strategy,
      'proximal-mu': s.mu,
      ...TRAIN,
    });
    await waitFor(join(out, 'summary.json'), flower);
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  } finally {
    abort.abort();
    await Promise.all(running);
    for (const { app } of nodes) app.rule.dispose();
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const ends = new Map(summary.rounds.map((r) => [r.round, r.t]));
  const rounds = [];
  for (let r = 1; r <= s.rounds; r++) {
    const of = (type) => messages.filter((m) => m.round === r && m.type === type && !m.error);
    const perClient = (type, k) =>
      Array.from({ length: s.clients }, (_, c) => of(type).find((m) => m.client === c)?.[k]);
    rounds.push({
      round: r,
      flowerEvaluateAccuracy: summary.evaluate[String(r)]?.accuracy ?? null,
      meanTrainLoss: summary.train[String(r)]?.loss ?? null,
      ...(({ accuracy, error }) => ({ globalTestAccuracy: accuracy, globalArraysRefused: error }))(
        await globalAccuracy(join(out, `round-${r}`), config, backend, globalTest),
      ),
      // Flower's clock: its strategy calls the ServerApp's evaluate_fn after round r's train and evaluate replies are
      // aggregated; round r's time is that moment less round r − 1's (round 1: less the call on the initial arrays)
      roundSeconds: ends.has(r) && ends.has(r - 1) ? ends.get(r) - ends.get(r - 1) : null,
      repliesTrain: of('train').length,
      repliesEvaluate: of('evaluate').length,
      bytes: {
        trainSent: perClient('train', 'sent'),
        trainReceived: perClient('train', 'received'),
        evaluateSent: perClient('evaluate', 'sent'),
        evaluateReceived: perClient('evaluate', 'received'),
      },
      clientSeconds: { train: perClient('train', 'seconds'), evaluate: perClient('evaluate', 'seconds') },
    });
  }
  const failed = messages.filter((m) => m.error);
  return { strategy, mu: strategy === 'fedprox' ? s.mu : undefined, wallSeconds, rounds, failed, faults };
}

/** Each client's local-only model: its shard alone, as many epochs as the federation trained in all. */
async function localOnly(s, ctx) {
  const { backend, config, shards, mnist, globalTest } = ctx;
  const rows = [];
  for (const [i, trainSet] of shards.entries()) {
    const rule = createRule(config, backend);
    const t0 = performance.now();
    try {
      await train(rule, trainSet, subset(mnist.test, i * CLIENT_TEST, CLIENT_TEST), {
        epochs: s.rounds * s.epochs,
        lr: TRAIN.lr,
        batchSize: TRAIN['batch-size'],
        seed: SEED,
        normalization: MNIST_NORMALIZATION,
      });
      const accuracy = await evaluate((x) => rule.predict(x), backend, globalTest, 256, MNIST_NORMALIZATION);
      rows.push({
        client: i,
        images: trainSet.count,
        globalTestAccuracy: accuracy,
        seconds: (performance.now() - t0) / 1000,
      });
    } finally {
      rule.dispose();
    }
  }
  return rows;
}

/** A shard's images per class (0–9): how non-IID the split is. */
function classMix(ds) {
  const counts = new Array(ds.classes).fill(0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

function printTable(s, results, locals) {
  const head = [
    'strategy',
    'round',
    'Flower eval acc',
    'global test acc',
    'ok replies',
    'train ↑ kB',
    'train ↓ kB',
    'eval ↑ kB',
    'eval ↓ kB',
    'round s',
    'client train s',
    'client eval s',
  ];
  const lines = [];
  for (const res of results)
    for (const r of res.rounds) {
      const m = (xs) => mean(xs.filter((x) => x !== undefined));
      lines.push([
        res.strategy === 'fedprox' ? `FedProx μ=${res.mu}` : { fedavg: 'FedAvg', fedadam: 'FedAdam' }[res.strategy],
        String(r.round),
        pct(r.flowerEvaluateAccuracy),
        r.globalArraysRefused ? 'refused' : pct(r.globalTestAccuracy),
        `${r.repliesTrain}, ${r.repliesEvaluate}`,
        kB(m(r.bytes.trainSent)),
        kB(m(r.bytes.trainReceived)),
        kB(m(r.bytes.evaluateSent)),
        kB(m(r.bytes.evaluateReceived)),
        r.roundSeconds === null ? '—' : r.roundSeconds.toFixed(1),
        secs(m(r.clientSeconds.train)),
        secs(m(r.clientSeconds.evaluate)),
      ]);
    }
  for (const l of locals)
    lines.push([
      `local-only client ${l.client}`,
      `(${s.rounds * s.epochs} ep)`,
      '—',
      pct(l.globalTestAccuracy),
      '—',
      '—',
      '—',
      '—',
      '—',
      '—',
      l.seconds.toFixed(2),
      '—',
    ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => `| ${l.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(fmt(head));
  console.log(`|${w.map((n, i) => (i < 2 ? `:${'-'.repeat(n + 1)}` : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
}

export async function runSuite(opts = {}) {
  if ([SuperNode, ruleClientApp, ruleArrays, loadRuleArrays, shard].some((f) => typeof f !== 'function')) {
    console.error(
      'federated: dist/index.js does not export the federated client (SuperNode, ruleClientApp, ruleArrays, ' +
        'loadRuleArrays, shard): export them from src/index.ts and run `npm run build`',
    );
    return 1;
  }
  const { s, problems } = settingsOf(opts);
  if (problems.length) {
    console.error(`federated: ${problems.join('; ')}`);
    return 2;
  }
  const started = performance.now();
  const mnist = await loadMnist();
  const pool = subset(mnist.train, 0, s.limit);
  const globalTest = subset(mnist.test, GLOBAL_TEST.start, GLOBAL_TEST.count);
  const backend = await createBackend('wasm');
  const config = ruleConfig(s.rule, s.hidden);
  const shards = Array.from({ length: s.clients }, (_, i) => shard(pool, i, s.clients, s.alpha, SHARD_SEED));
  const work = mkdtempSync(join(tmpdir(), 'layerhive-bench-fl-'));
  const init = join(work, 'init');
  mkdirSync(init);
  const first = createRule(config, backend);
  writeArrays(
    init,
    [...(await ruleArrays(first))].map(([n, a]) => [n, a.data]),
  );
  first.dispose();
  console.log(
    `federated: Flower 1.42 SuperLink on loopback, ${s.clients} in-process layerhive clients, ${s.rule} MLP ` +
      `784-${s.hidden}-10, the first ${s.limit} MNIST training images dealt non-IID (Dirichlet α=${s.alpha}), ` +
      `${s.rounds} rounds × ${s.epochs} local epoch(s), SGD lr ${TRAIN.lr} momentum 0.9, batch ${TRAIN['batch-size']}`,
  );
  const mixes = shards.map(classMix);
  for (const [i, counts] of mixes.entries())
    console.log(`  client ${i}: ${shards[i].count} images, per class ${counts.join(' ')}`);
  let flower;
  const results = [];
  let locals = [];
  try {
    flower = await startFlower();
    const ctx = { flower, backend, config, shards, mnist, init, globalTest, work };
    for (const strategy of s.strategies) {
      const res = await runStrategy(strategy, s, ctx);
      console.log(
        `${strategy}: ${res.rounds.length} rounds in ${res.wallSeconds.toFixed(1)} s; global test accuracy ` +
          res.rounds.map((r) => pct(r.globalTestAccuracy)).join(', ') +
          (res.failed.length ? `; ${res.failed.length} failed replies, e.g. ${res.failed[0].error}` : ''),
      );
      results.push(res);
    }
  } finally {
    flower?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  locals = await localOnly(s, { backend, config, shards, mnist, globalTest });
  const wallSeconds = (performance.now() - started) / 1000;
  console.log(
    `\nFederated ${s.rule} on ${s.clients} non-IID MNIST shards (α=${s.alpha}), global test = MNIST test ` +
      `${GLOBAL_TEST.start}–${GLOBAL_TEST.start + GLOBAL_TEST.count - 1}; bytes and client seconds are means per ` +
      "client per round (↑ sent by the client, ↓ received); a local-only row's client train s is all of its " +
      'training\n',
  );
  printTable(s, results, locals);
  console.log(`\nwall time ${wallSeconds.toFixed(0)} s`);
  const out = opts.out ?? RESULTS_FILE;
  mkdirSync(dirname(out), { recursive: true });
  const json = {
    suite: 'federated',
    machine: machineInfo(),
    command: `node --experimental-wasm-relaxed-simd bench/run.mjs ${process.argv.slice(2).join(' ')}`,
    wallSeconds,
    settings: {
      ...s,
      flwr: '1.42.0',
      model: config,
      train: TRAIN,
      seed: SEED,
      shardSeed: SHARD_SEED,
      clientTestImages: CLIENT_TEST,
      globalTest: GLOBAL_TEST,
      shardClassCounts: mixes,
    },
    results,
    localOnly: locals,
  };
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${out}`);
  const incomplete = results.some((r) => r.failed.length > 0 || r.rounds.some((x) => x.repliesTrain < s.clients));
  return incomplete ? 1 : 0;
}
