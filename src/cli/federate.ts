import { type Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as lh from '../index.js';
import { fail } from '../core/errors.js';
import { subset } from '../data/dataset.js';
import { MNIST_NORMALIZATION } from '../data/batches.js';
import type { RuleConfig } from '../learn/create.js';
import { saveGroups, type LearningRule } from '../learn/rule.js';
import { nodeSpawner } from '../parallel/spawn-node.js';
import { trainParallel } from '../parallel/train-parallel.js';
import type { Traffic } from '../federated/fleet-client.js';
import { ruleArrays, ruleClientApp, type LocalTrainer } from '../federated/rule-client.js';
import { configNumber } from '../federated/records.js';
import { shard } from '../federated/shards.js';
import { defaultWorkers } from '../parallel/pool.js';
import { ruleNames } from '../learn/rule.js';
import { modelNames } from '../learn/models.js';
import { SuperNode } from '../federated/supernode.js';
import { FederatedError } from '../federated/errors.js';
import { FsCheckpointStore } from '../store/fs-store.js';
import { captureCheckpoint, type Checkpoint, copyWeights } from '../store/checkpoint.js';
import { fetchCheckpoint } from '../store/url-checkpoint.js';
import type { ClientAppHandler } from '../federated/supernode.js';
import { loadData, ruleConfig } from './train.js';
import { int, positive } from './option-parsers.js';

/** Adds `layerhive federate` to the CLI (main.ts), defined as the other commands are. */
export function federateCommand(program: Command, workerUrl: URL): void {
  program
    .command('federate')
    .description(
      'join a Flower federation as one client: train on shard i of n of the data each round the SuperLink sends, ' +
        'reply with the new weights and metrics (never samples); Ctrl-C leaves it',
    )
    .requiredOption('--server <url>', "the SuperLink's address (its Fleet API over HTTP), e.g. http://127.0.0.1:9095")
    .addOption(new Option('--rule <rule>', 'learning rule').choices([...ruleNames]).default('backprop'))
    .addOption(new Option('--model <model>', 'network (for NoProp: the block)').choices([...modelNames]).default('mlp'))
    .option('--hidden <n>', 'backprop/tpsgd: an MLP with one hidden tanh layer of N units instead', int('--hidden'))
    .option('--data <mnist|dir>', "'mnist' or a folder with the four IDX files (or an image folder)", 'mnist')
    .requiredOption('--shard <i/n>', "this device's shard of the training data, e.g. 0/3")
    .option(
      '--non-iid <alpha>',
      'non-IID shards: Dirichlet concentration α (small: few classes each)',
      positive('--non-iid'),
    )
    .option('--limit <n>', 'shard the first N training images only', int('--limit'))
    .option('--test-images <n>', 'local test images for evaluate messages', int('--test-images'), 1000)
    .option(
      '--seed <n>',
      'seed of the initial weights and the shards (the same on every client)',
      (v) => Number.parseInt(v, 10),
      0,
    )
    .option('--epochs <n>', "local epochs when the server's config does not say", int('--epochs'), 1)
    .option('--lr <x>', "learning rate when the server's config does not say", positive('--lr'), 0.05)
    .option('--batch <n>', "batch size when the server's config does not say", int('--batch'), 32)
    .addOption(
      new Option('--optimizer <name>', 'optimizer (sgd: momentum 0.9)')
        .choices(['sgd', 'adam', 'adamw'])
        .default('sgd'),
    )
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'js']).default('wasm'))
    .option(
      '--workers [n]',
      'train each round over N stage workers (without N: one per core, at most 8)',
      int('--workers'),
    )
    .option(
      '--init <checkpoint>',
      "start from this checkpoint's network, rule and weights instead of --rule/--model/--hidden/--optimizer: a " +
        '`train --out` folder (its newest version) or a version folder (manifest.json, records.bin) such as the ' +
        "app's dist/pwa/base, so that Node clients and the app federate one network",
    )
    .option('--write-initial <dir>', "write the model's initial arrays (the ServerApp's init-dir) and exit")
    .option(
      '--out <dir>',
      'save the trained model as a checkpoint version here after each train round (meta: federated server, run, round)',
    )
    .option('--keep <n>', 'with --out: keep the newest N versions (default: all)', int('--keep'))
    .option(
      '--heartbeat <s>',
      'seconds between the heartbeats this node promises (Flower: 10 to 1800); a silent node counts as gone after 2',
      int('--heartbeat'),
      30,
    )
    .action(async (o) => {
      const stop = new AbortController();
      const leave = () => stop.abort();
      process.once('SIGINT', leave);
      process.once('SIGTERM', leave);
      try {
        await runFederate(
          { ...o, workers: o.workers === true ? defaultWorkers(availableParallelism()) : o.workers, workerUrl },
          { signal: stop.signal },
        );
      } finally {
        process.off('SIGINT', leave);
        process.off('SIGTERM', leave);
      }
    });
}

export interface FederateArgs {
  server: string;
  rule: RuleConfig['rule'];
  model: RuleConfig['model'];
  data: string;
  /** 'i/n': this device's shard of the training data. */
  shard: string;
  /** Dirichlet concentration of a non-IID shard (absent: contiguous IID slices). */
  nonIid?: number;
  /** Seed of the model's initial weights and of the shards (every client of a federation passes the same). */
  seed: number;
  /** backprop/tpsgd MLP: one hidden tanh layer of this many units instead of the built-in model. */
  hidden?: number;
  /** Use the first N training images before sharding. */
  limit?: number;
  /** Local test images (evaluate messages), from this shard's slice of the test set. */
  testImages: number;
  /** Fallbacks when the server's config does not set 'local-epochs', 'lr', 'batch-size'. */
  epochs: number;
  lr: number;
  batch: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  backend: string;
  workers?: number;
  workerUrl: URL;
  /** Start from this checkpoint's network, rule and weights (a `train --out` folder or one version's folder). */
  init?: string;
  /** Write the model's initial arrays (the ServerApp's init-dir) to this folder and exit. */
  writeInitial?: string;
  /** Ms between empty pulls (default 1000). */
  pollMs?: number;
  /** Save the trained model here (a checkpoint folder, `layerhive train --out`'s format) after every train round. */
  out?: string;
  /** With `out`: keep only the newest N versions. */
  keep?: number;
  /** Seconds between heartbeats (Flower: 10 to 1800; default 30). */
  heartbeat?: number;
}

/** `--shard i/n` as numbers; a typed error for anything else. */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : Number.NaN,
    count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index >= count)
    fail('INVALID_ARGUMENT', `--shard ${s} is not a shard i/n with 0 ≤ i < n`, 'pass e.g. --shard 0/3');
  return { index, count };
}

/** `--server`: an http(s) URL of the SuperLink's port, without a trailing slash; a typed error otherwise. */
export function parseServer(s: string): string {
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {}
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash)
    fail(
      'INVALID_ARGUMENT',
      `--server ${s} is not an http(s) URL`,
      "pass the SuperLink's address, e.g. --server http://127.0.0.1:9095",
    );
  return u.href.replace(/\/+$/, '');
}

/**
 * `--init`: one version's folder (manifest.json and records.bin, as the app ships `base/`) read as its files, else a
 * `layerhive train --out` folder's newest version. Checked as any stored checkpoint is; a typed error otherwise.
 */
async function readCheckpoint(path: string): Promise<Checkpoint> {
  if (!existsSync(join(path, 'manifest.json'))) {
    const { store, name } = FsCheckpointStore.at(path);
    return store.load(name);
  }
  const file = async (url: string) =>
    readFile(url).then(
      (b) => new Response(new Uint8Array(b)),
      () => new Response(null, { status: 404 }),
    );
  return fetchCheckpoint(resolve(path), file as unknown as typeof fetch);
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const sum = (t: Traffic[], k: 'sent' | 'received') => t.reduce((a, x) => a + x[k], 0);

/**
 * `layerhive federate`: one Flower SuperNode on this device, training `--rule`/`--model` on shard i of n of
 * `--data`, until `signal` aborts (Ctrl-C); then it deactivates and unregisters. One line per message on `log`.
 */
export async function runFederate(
  a: FederateArgs,
  o: { signal?: AbortSignal; log?: (line: string) => void; onFault?: (e: Error) => void } = {},
): Promise<void> {
  const log = o.log ?? console.log;
  const server = parseServer(a.server);
  const { index, count } = parseShard(a.shard);
  if (a.heartbeat !== undefined && !(a.heartbeat >= 10 && a.heartbeat <= 1800))
    fail('INVALID_ARGUMENT', `--heartbeat ${a.heartbeat} is outside Flower's 10 to 1800 s`, 'pass e.g. --heartbeat 30');
  if (a.nonIid !== undefined && !(a.nonIid > 0))
    fail('INVALID_ARGUMENT', `--non-iid ${a.nonIid} is not a positive number`, 'pass a Dirichlet α such as 0.3');
  const backend = await lh.createBackend(a.backend);
  let rule: LearningRule | undefined;
  try {
    const data = await loadData(a.data, a.limit);
    const config = ruleConfig(
      { ...a, localLoss: 'l2', blocks: 10, embedding: 'onehot', weighting: 'uniform' },
      data.train,
    );
    if (a.hidden !== undefined)
      config.layers = [
        { type: 'flatten' },
        { type: 'dense', units: a.hidden },
        { type: 'tanh' },
        { type: 'dense', units: data.train.classes },
      ];
    if (a.optimizer === 'sgd') config.optimizer = { type: 'sgd', lr: a.lr, momentum: 0.9 };
    const start = a.init ? await readCheckpoint(a.init) : undefined;
    if (start) Object.assign(config, structuredClone(start.config));
    const normalization = a.data === 'mnist' ? MNIST_NORMALIZATION : undefined;
    const trainSet = shard(data.train, index, count, a.nonIid, a.seed + 11);
    const per = Math.min(a.testImages, Math.floor(data.test.count / count));
    const testSet = subset(data.test, index * per, per);
    const trainer: LocalTrainer | undefined = a.workers
      ? async (r, tr, te, t) => {
          const initial = await saveGroups(r);
          const out = await trainParallel(config, tr, te, {
            ...t,
            workers: a.workers as number,
            spawn: nodeSpawner(a.workerUrl),
            backend: a.backend,
            initial,
          });
          for (const [g, s] of Object.entries(await saveGroups(out.rule))) r.loadGroup(g, s);
          out.rule.dispose();
          return { epochs: out.report.epochs };
        }
      : undefined;
    const app = ruleClientApp({
      config,
      backend,
      trainSet,
      testSet,
      epochs: a.epochs,
      lr: a.lr,
      batchSize: a.batch,
      normalization,
      trainer,
      trainerAppliesProximal: !a.workers,
    });
    rule = app.rule;
    if (start) copyWeights(start, rule);
    if (a.writeInitial) {
      mkdirSync(a.writeInitial, { recursive: true });
      const names: string[] = [];
      for (const [name, arr] of await ruleArrays(rule)) {
        writeFileSync(join(a.writeInitial, `${names.length}.npy`), arr.data);
        names.push(name);
      }
      writeFileSync(join(a.writeInitial, 'manifest.json'), JSON.stringify({ names }));
      log(`wrote ${names.length} initial arrays of ${config.rule} (${config.model}) to ${a.writeInitial}`);
      return;
    }
    // the metrics of the last reply, for the round's line
    let last: { round?: number; loss?: number; accuracy?: number } = {};
    const target = a.out ? FsCheckpointStore.at(a.out) : null;
    const handler: ClientAppHandler = async (m) => {
      const cfg = m.content.get('config');
      // Flower's strategies put the round in the config ('server-round'); the group id is often empty
      const round = configNumber(cfg?.kind === 'config' ? cfg.values : undefined, 'server-round', Number(m.groupId));
      last = { round };
      const kind = m.messageType.split('.')[0];
      if (kind === 'train') log(`round ${round || '?'} train: training on ${trainSet.count} images…`);
      const reply = await app.handler(m);
      if (kind === 'train' && target) await saveVersion(target, round, m.runId);
      const metrics = reply.get('metrics');
      if (metrics?.kind === 'metrics')
        last = {
          round,
          loss: metrics.values.get('loss') as number | undefined,
          accuracy: metrics.values.get('accuracy') as number | undefined,
        };
      return reply;
    };
    // a version per train round: the weights this device sent back (the global model after its local training)
    const saveVersion = async (t: { store: FsCheckpointStore; name: string }, round: number, run: bigint) => {
      const meta = { federated: { server, run: String(run), round, node: String(node.id) } };
      try {
        const v = await t.store.save(t.name, await captureCheckpoint(app.rule, config, { meta }), { keep: a.keep });
        log(`checkpoint ${a.out} version ${v.version} (run ${run}, round ${round})`);
      } catch (e) {
        // the round's reply does not depend on the local copy: a full disk must not fail the federation's round
        log(`checkpoint ${a.out} not saved: ${(e as Error).message}`);
      }
    };
    const node = new SuperNode({
      server,
      pollMs: a.pollMs,
      heartbeatInterval: a.heartbeat,
      onConnect: (id) => log(`node ${id} registered and active; waiting for rounds`),
      onRound: (r) => {
        const kind = r.message.messageType.split('.')[0];
        const metrics = r.error
          ? `failed: ${r.error.message}`
          : [
              last.loss !== undefined ? `loss ${last.loss.toFixed(4)}` : '',
              last.accuracy !== undefined ? `local accuracy ${(100 * last.accuracy).toFixed(1)}%` : '',
            ]
              .filter(Boolean)
              .join(', ');
        log(
          `round ${last.round || r.message.groupId || '?'} ${kind}: ${metrics} · sent ${kb(sum(r.traffic, 'sent'))}, ` +
            `received ${kb(sum(r.traffic, 'received'))} · ${r.seconds.toFixed(1)} s`,
        );
      },
      onFault: (e) => {
        log(`(${e.message}; ${e instanceof FederatedError && e.fault === 'unreachable' ? 'retrying' : 'going on'})`);
        o.onFault?.(e);
      },
    });
    log(
      `federating ${config.rule} (${config.model}${a.hidden ? `, ${a.hidden} hidden` : ''}) with ${server}: ` +
        `shard ${index}/${count} of ${a.data}${a.nonIid !== undefined ? ` (non-IID α=${a.nonIid})` : ''}, ` +
        `${trainSet.count} training and ${testSet.count} test images (Ctrl-C leaves the federation)`,
    );
    await node.connect(o.signal);
    await node.run(handler, o.signal);
    log(`node ${node.id} deactivated and unregistered`);
  } finally {
    rule?.dispose();
    backend.destroy?.();
  }
}
