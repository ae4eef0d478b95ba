// @module-tag outside
// A client killed mid-round, with real Flower 1.42: three clients — two layerhive SuperNodes in this process and a
// `layerhive federate` child process (the built CLI) — in a FedAvg run that needs 2 nodes. The child is SIGKILLed once
// its round-1 training has started: it never replies, deactivates or says goodbye. Flower's SuperLink answers for it
// once its heartbeats stop (2 × its 10 s interval: a "node unavailable" error reply), the strategy aggregates the two
// others' results, and the later rounds sample only the nodes still online. No strategy timeout is involved (3600 s).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFlower, startFlower } from '../../../federated/local-flower.mjs';
import { createBackend } from '../../../src/index.js';
import { loadMnist } from '../../../src/data/idx-file.js';
import { createRule } from '../../../src/learn/create.js';
import { ruleArrays } from '../../../src/federated/rule-client.js';
import { SuperNode } from '../../../src/federated/supernode.js';
import {
  faultConfig,
  shardApp,
  replyCounts,
  startRun,
  type Summary,
  until,
  waitForSummary,
  workDir,
} from './faults-common.js';

const cli = fileURLToPath(new URL('../../../bin/layerhive.js', import.meta.url));
const ROUNDS = 3;

let flower: LocalFlower | undefined;
const abort = new AbortController();
const seen: { client: number; type: string; error?: Error }[] = [];
let child: ChildProcess | undefined;
let childOut = '';
let childExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
let killedAfter = '';
let summary: Summary;
let log = '';
let running: Promise<void>[] = [];

describe('a client killed mid-round in a real Flower 1.42 federation', () => {
  beforeAll(async () => {
    flower = await startFlower();
    const mnist = await loadMnist();
    const backend = await createBackend('wasm');
    const work = workDir();
    const config = faultConfig(32);

    // the child: what a user runs, with the same model (--hidden 32 --seed 7) and a 10 s heartbeat (Flower's least)
    child = spawn(
      process.execPath,
      [
        '--no-concurrent-recompilation',
        '--experimental-wasm-relaxed-simd',
        cli,
        'federate',
        '--server',
        flower.server,
        '--data',
        'mnist',
        '--limit',
        '1200',
        '--shard',
        '2/3',
        '--hidden',
        '32',
        '--seed',
        '7',
        '--test-images',
        '200',
        '--heartbeat',
        '10',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => {
      childOut += d;
    });
    child.stderr?.on('data', (d) => {
      childOut += d;
    });
    child.once('exit', (code, signal) => {
      childExit = { code, signal };
    });

    const nodes = [0, 1].map((i) => {
      const app = shardApp(config, backend, mnist, i);
      const node = new SuperNode({
        server: flower!.server,
        pollMs: 300,
        heartbeatInterval: 10,
        onRound: (r) => seen.push({ client: i, type: r.message.messageType, error: r.error }),
      });
      return { node, app };
    });
    for (const { node } of nodes) await node.connect(abort.signal);
    running = nodes.map(({ node, app }) => node.run(app.handler, abort.signal));
    await until(() => /registered and active/.test(childOut) || !!childExit, 60, 'the federate child registering');
    expect(childOut).toMatch(/registered and active/);

    const init = createRule(config, backend);
    const arrays = await ruleArrays(init);
    init.dispose();
    const run = startRun(flower, work, 'killed', arrays, {
      'num-server-rounds': ROUNDS,
      'min-nodes': 2,
      'fraction-train': 1.0,
      'fraction-evaluate': 1.0,
    });
    // SIGKILL as soon as its round-1 training has begun: no reply, no deactivation, no goodbye
    await until(() => /round 1 train: training on/.test(childOut) || !!childExit, 60, 'the child training');
    killedAfter = childOut;
    child.kill('SIGKILL');
    await until(() => !!childExit, 10, 'the child exiting');

    const killedAt = Date.now();
    summary = await waitForSummary(flower, run, 120);
    log = flower.runLog(run.runId);
    console.log(
      `child killed; the run ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s later; rounds ended at ` +
        `${summary.rounds.map((r) => r.t.toFixed(1)).join(', ')} s of the ServerApp`,
    );
  }, 240_000);

  afterAll(async () => {
    abort.abort();
    if (child && !childExit) child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.catch(() => {})));
    flower?.stop();
  });

  it('kills the child during its first train round, before it replied', () => {
    expect(childExit?.signal).toBe('SIGKILL');
    expect(killedAfter).toMatch(/round 1 train: training on \d+ images/);
    expect(childOut).not.toMatch(/round \d+ train: (loss|failed)/);
  });

  it('finishes every round: round 1 with 2 results and the SuperLink\'s "node unavailable" error for the dead', () => {
    expect(Object.keys(summary.evaluate).sort()).toEqual(['1', '2', '3']);
    expect(replyCounts(log, 'train')).toEqual([
      [2, 1],
      [2, 0],
      [2, 0],
    ]);
    expect(replyCounts(log, 'evaluate')).toEqual([
      [2, 0],
      [2, 0],
      [2, 0],
    ]);
    expect(log).toMatch(/Received error in reply from node \d+: Error: Node Unavailable/);
  });

  it('has the two others train and evaluate every round', () => {
    for (const client of [0, 1])
      for (const type of ['train', 'evaluate'])
        expect(seen.filter((s) => s.client === client && s.type === type && !s.error)).toHaveLength(ROUNDS);
    expect(seen.filter((s) => s.error)).toEqual([]);
  });
});
